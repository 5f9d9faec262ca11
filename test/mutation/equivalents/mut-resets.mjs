// @ts-check
/**
 * Equivalent mutants of lambdas/domain/resets.ts (issue 20, branch mut-resets): every mutant inside
 * each `code` is one no behaviour can tell from the original.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/resets.ts',
    code: '() => undefined',
    reason: 'the only mutant of this arrow (ArrowFunction) is "() => undefined", the same text',
  },
  {
    file: 'lambdas/domain/resets.ts',
    code: 'n.toLowerCase()',
    reason: 'only dedupes the old and new username before accountThrottleKey, which lowercases itself: upper case dedupes the same pairs to the same keys',
  },
  {
    file: 'lambdas/domain/resets.ts',
    code: '{ current }',
    reason: '{} makes the first issue attempt build on "no link", whose write is conditional on that version: it conflicts and retryOnConflict reads afresh, same outcome (only an extra backend call)',
  },
];
