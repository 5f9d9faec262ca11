// @ts-check
/**
 * Equivalent mutants of the proxy, self-registration and phone-code files (helper mut-proxies,
 * issue 20): no behaviour can tell each from the original. See core.mjs for the format. Only
 * expressions whose every mutant is equivalent are listed (an entry hides all mutants inside it);
 * the other equivalent survivors are named with their reasons in the closing note.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/phone-codes.ts',
    code: '/[\\s-]+/g',
    reason: 'a global replace by "" removes the same characters one at a time as in runs',
  },
];
