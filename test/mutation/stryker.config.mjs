// @ts-check
import { readdirSync } from 'node:fs';

/**
 * Mutants that are equivalent (no behaviour can tell them from the original), each with its
 * reason, gathered from ./equivalents/*.mjs (one file per area, `export default [{ file, code,
 * reason }]`): every mutant inside the expression `code` (exact source text) of `file` is ignored
 * and reported as Ignored with the reason.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export const equivalents = [];
const folder = new URL('./equivalents/', import.meta.url);
for (const name of readdirSync(folder).filter((n) => n.endsWith('.mjs')).sort()) {
  equivalents.push(...(await import(new URL(name, folder).href)).default);
}

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
