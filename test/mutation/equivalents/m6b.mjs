// @ts-check
/**
 * Equivalent mutants of lambdas/domain/proxies.ts and staff-sign-in.ts (helper m6b, issue 20):
 * no behaviour can tell each from the original. See core.mjs for the format. Only expressions
 * whose every mutant is equivalent are listed (an entry hides every mutant inside every
 * occurrence of its text in the file); the other equivalent survivors are named with their
 * reasons in the closing note.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/proxies.ts',
    code: "''",
    reason: 'both occurrences are `state.data?.relationship ?? \'\'` fed to isSelfRelationship: any other fallback text is not "self" either',
  },
];
