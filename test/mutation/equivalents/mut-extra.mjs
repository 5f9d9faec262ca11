// @ts-check
/**
 * Equivalent mutants found by mut-extra (issue 20): self-registration.ts. Each `code` is the exact
 * source text of the narrowest expression; see core.mjs for the format.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/self-registration.ts',
    code: '!pointer',
    reason: 'verify: with no pointer `current` is undefined, so the next test (!isLive(current, now)) refuses with the same 410 and the same counted failure',
  },
];
