// @ts-check
/**
 * Equivalent mutants of lambdas/domain/one-time-link.ts after issue 16 (branch mut-links2: useLink,
 * lookUp with reads). Each `code` is the exact source text of the narrowest expression; the
 * reason says why no behaviour can tell the mutant apart.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/one-time-link.ts',
    code: '[undefined, undefined, undefined as B]',
    reason: 'lookUpTogether without a pointer: destructuring [] gives the same three undefined values',
  },
];
