// @ts-check
/**
 * Mutants that are equivalent (no behaviour can tell them from the original), each with its
 * reason: every mutant inside the expression `code` (exact source text) of `file` is ignored and
 * reported as Ignored with the reason. Keep each entry as narrow as the expression that is
 * equivalent; a mutant a test could kill belongs in a *.rules.test.ts instead.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export const equivalents = [
  { file: 'lambdas/domain/secrets.ts', code: "'utf8'", reason: "Hash.update(string, '') encodes as UTF-8, the default, like 'utf8'" },
  { file: 'lambdas/domain/secrets.ts', code: '/[\\s-]+/g', reason: 'a global replace by "" removes the same characters one at a time as in runs' },
  {
    file: 'lambdas/domain/sign-in-throttle.ts',
    code: 'sinceLast > p.forgetAfterSeconds',
    reason: 'the longest wait (15 min) is over long before a day: past forgetAfterSeconds the wait is 0 by the delay arithmetic too',
  },
  {
    file: 'lambdas/domain/sign-in-throttle.ts',
    code: "'error'",
    reason: "settle's outcome is 'refused' | 'error' and every store tests `=== 'refused'`: any other value is 'error' (and would not type-check)",
  },
  {
    file: 'lambdas/http/auth.ts',
    code: "''",
    reason: 'a missing Authorization header is matched as any other string that is not "Bearer <token>": refused the same',
  },
  {
    file: 'lambdas/http/auth.ts',
    code: '[]',
    reason: 'groups that are not a list become a list that names no role: any such list gives the same empty roles',
  },
  {
    file: 'lambdas/http/auth.ts',
    code: "typeof payload.sub === 'string' && payload.sub.length > 0",
    reason: 'defence in depth: aws-jwt-verify refuses a non-string sub (JwtParseError) and `!sub` right after refuses an empty one',
  },
];

/**
 * Mutation testing (issue 20): `npm run mutation`. Not part of `npm test`: a full run takes tens of
 * minutes on two cores. `--incremental` keeps its state in .stryker/ (gitignored), so a second run
 * only tests the mutants of code or tests that changed. The HTML report: .stryker/report/index.html.
 *
 * Narrow a run with `npm run mutation -- --mutate lambdas/domain/secrets.ts`.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner', './test/mutation/ignore-wording.mjs'],
  // Error messages are wording, not rules: see ignore-wording.mjs for exactly what is left out.
  // and the `equivalents` above are ignored with their reasons.
  ignorers: ['error-wording', 'equivalent'],
  mutate: ['lambdas/domain/**/*.ts', 'lambdas/http/**/*.ts'],
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: '.stryker/incremental.json',
  tempDirName: '.stryker/tmp',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.stryker/report/index.html' },
  jsonReporter: { fileName: '.stryker/report/mutation.json' },
  // One test runner: the machine is shared (two cores); a full run is for a quiet machine or CI.
  concurrency: 1,
  // A static mutant (a module-level constant) can only be tested by reloading everything and
  // running the whole unit suite (~2 min each here); the constants that matter (scrypt cost
  // bounds, the throttle policy, PIN length) are pinned by the *.rules.test.ts files instead.
  ignoreStatic: true,
  timeoutMS: 20_000,
  thresholds: { high: 90, low: 80, break: null },
};
