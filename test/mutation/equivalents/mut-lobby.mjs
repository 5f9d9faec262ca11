// @ts-check
/**
 * Equivalent mutants of lambdas/domain/lobby.ts (issue 20, branch mut-lobby). Each `code` is the
 * exact source text of the narrowest expression; the reason says why no behaviour can tell the
 * mutant apart.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/lobby.ts',
    code: '[]',
    reason:
      'candidatesFor: `named` is [] when byId is not among the first 5 ids; a non-empty array of anything but a Candidate (["Stryker was here"]) is dropped by the filter right after, since a string has no .record (c.record?.masterCase is undefined)',
  },
];
