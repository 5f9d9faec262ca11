// @ts-check
/**
 * Equivalent mutants found while merging this round's work, each with its reason.
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/http/standalone-handler.ts',
    code: "{\n    // buildHandler hands the route's own caller; anything else would be a wiring mistake.\n    if (routeCaller !== 'public') throw new Error(`route ${id} is not public`);\n    return undefined;\n  }",
    reason: "defence in depth: buildHandler hands this callback the route's own caller, which the definition check above has just required to be 'public', and an empty body answers undefined too",
  },
];
