// @ts-check
/**
 * Mutants that are equivalent (no behaviour can tell them from the original), each with its
 * reason: every mutant inside the expression `code` (exact source text) of `file` is ignored and
 * reported as Ignored with the reason. Keep each entry as narrow as the expression that is
 * equivalent; a mutant a test could kill belongs in a *.rules.test.ts instead.
 *
 * One file per area (each helper of a round writes its own, so lists merge without conflicts);
 * stryker.config.mjs gathers every file of this folder.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
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
