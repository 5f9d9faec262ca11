// @ts-check
/**
 * Mutation testing one file at a time (issue 20), each against ITS OWN tests only:
 *   node test/mutation/by-file.mjs [lambdas/domain/x.ts …] [--all] [--concurrency N]   (default: the security files)
 * A mutant must be killed by a test of the file it is in (a domain file: its test/unit tests and
 * *.rules.test.ts; an http file: those and its handler tests), not by some distant test that happens to reach it:
 * stricter, and on two shared cores hours faster than letting every covering test run. Each
 * file keeps its own incremental state (.stryker/inc/<file>.json), so a re-run only tests what
 * changed; the log of each run is .stryker/logs/<file>.log. Then `node test/mutation/scores.mjs`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * The files that handle secrets, throttling, permissions, revocation or link life: ≥ 90 % each
 * (issue 20). Every other mutated file counts toward the ≥ 80 % overall.
 */
export const securityFiles = [
  'lambdas/domain/secrets.ts',
  'lambdas/domain/equal-time.ts',
  'lambdas/domain/sign-in-throttle.ts',
  'lambdas/domain/permissions.ts',
  'lambdas/domain/one-time-link.ts',
  'lambdas/domain/resets.ts',
  'lambdas/domain/invitations.ts',
  'lambdas/domain/email-match.ts',
  'lambdas/domain/registration.ts',
  'lambdas/domain/phone-codes.ts',
  'lambdas/domain/lobby.ts',
  'lambdas/domain/portal-record.ts',
  'lambdas/domain/patient-access.ts',
  'lambdas/domain/proxies.ts',
  'lambdas/domain/self-registration.ts',
  'lambdas/domain/account.ts',
  'lambdas/domain/forced-change.ts',
  'lambdas/domain/password-policy.ts',
  'lambdas/domain/patient-sign-in.ts',
  'lambdas/domain/staff-sign-in.ts',
  'lambdas/domain/staff-admin.ts',
  'lambdas/http/auth.ts',
  'lambdas/http/patient-auth.ts',
  'lambdas/http/staff-session.ts',
  'lambdas/http/lobby-auth.ts',
  'lambdas/http/handler-core.ts',
  'lambdas/http/standalone-handler.ts',
  'lambdas/http/cors.ts',
  'lambdas/http/parse.ts',
  'lambdas/http/problems.ts',
  'lambdas/http/logger.ts',
];

/** Tests of a file whose names do not start with the file's name. */
const extraTests = {
  'lambdas/domain/permissions.ts': ['test/unit/domain/settings-permissions.test.ts', 'test/unit/domain/staff-admin*.test.ts'],
  'lambdas/domain/settings.ts': ['test/unit/domain/settings-*.test.ts'],
  'lambdas/domain/portal-record.ts': ['test/unit/domain/rule-29.test.ts'],
  'lambdas/domain/invitations.ts': ['test/unit/domain/rule-29.test.ts'],
  'lambdas/domain/patient-access.ts': ['test/unit/domain/rule-29.test.ts'],
  'lambdas/http/auth.ts': ['test/handlers/staff-sessions.test.ts', 'test/handlers/sessions.test.ts', 'test/handlers/staff-admin.test.ts'],
  'lambdas/http/lobby-auth.ts': ['test/handlers/lobby.test.ts'],
  'lambdas/http/staff-handler.ts': ['test/unit/http/handler.rules.test.ts', 'test/unit/handler-routes.test.ts'],
  'lambdas/http/patient-handler.ts': ['test/unit/http/handler.rules.test.ts', 'test/unit/handler-routes.test.ts'],
  'lambdas/http/lobby-handler.ts': ['test/unit/http/handler.rules.test.ts', 'test/unit/handler-routes.test.ts'],
  'lambdas/http/parse.ts': ['test/handlers/bad-input.test.ts', 'test/handlers/fuzz.test.ts'],
  'lambdas/http/problems.ts': ['test/unit/http/typed-answers.test.ts', 'test/unit/http/public-handler.test.ts', 'test/handlers/bad-input.test.ts'],
};

/** A file's own tests: test/unit/**\/<name>[.*].test.ts, test/handlers/<name>[.*].test.ts, and the extras. */
function ownTests(file) {
  const name = basename(file, '.ts');
  const found = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name === `${name}.test.ts` || (entry.name.startsWith(`${name}.`) && entry.name.endsWith('.test.ts'))) found.push(path);
    }
  };
  walk('test/unit');
  // A domain file's rules are its domain tests; the handler tests (each a whole middy chain on
  // SDK mocks, many times slower per mutant) count for the http files.
  if (!file.startsWith('lambdas/domain/')) walk('test/handlers');
  return [...found, ...(extraTests[/** @type {keyof typeof extraTests} */ (file)] ?? [])];
}

// `--all`: every file Stryker mutates (the overall score); no argument: the security files.
const named = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--concurrency');
const files = process.argv.includes('--all') ? allMutatedFiles() : named.length > 0 ? named : securityFiles;

function allMutatedFiles() {
  const out = [];
  for (const dir of ['lambdas/domain', 'lambdas/http']) {
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.ts')) out.push(`${dir}/${name}`);
  }
  return out;
}
mkdirSync('.stryker/inc', { recursive: true });
mkdirSync('.stryker/logs', { recursive: true });
for (const file of files) {
  const key = file.replace(/^lambdas\//, '').replace(/\.ts$/, '').replaceAll('/', '-');
  const tests = ownTests(file);
  console.log(`${file}: ${tests.join(', ') || '(no tests)'}`);
  const args = ['stryker', 'run', 'test/mutation/stryker.config.mjs', '--mutate', file, '--incrementalFile', `.stryker/inc/${key}.json`, '--reporters', 'clear-text,json'];
  if (tests.length > 0) args.push('--testFiles', tests.join(','));
  // `--concurrency N` is handed on (the config's 1 is for a shared machine).
  const concurrency = process.argv.indexOf('--concurrency');
  if (concurrency !== -1) args.push('--concurrency', process.argv[concurrency + 1] ?? '1');
  const run = spawnSync('npx', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`.stryker/logs/${key}.log`, `${run.stdout}\n${run.stderr}`);
  const score = /All files\s*\|\s*([\d.]+)/.exec(run.stdout.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
  console.log(`  → ${score ? `${score} %` : `no score (exit ${run.status}), see .stryker/logs/${key}.log`}`);
}
