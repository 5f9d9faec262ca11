// @ts-check
/**
 * Equivalent mutants of lambdas/http and the sign-in domain files (issue 20, branch mut-http):
 * no behaviour can tell them from the original. Each `code` is the exact source text of the
 * narrowest expression holding the mutant; see ./core.mjs for how the list is read.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/patient-sign-in.ts',
    code: 'link?.patientId',
    reason: "reached only after the pool accepted the password, which it never does for the made-up `unknown-<random>` login: `link` is defined there",
  },
  {
    file: 'lambdas/domain/patient-sign-in.ts',
    code: 'expiry !== undefined',
    reason: 'Date.parse(undefined) is NaN and NaN <= now is false: without the guard an absent expiry is still not past',
  },
  {
    file: 'lambdas/domain/patient-sign-in.ts',
    code: 'record.login?.temporaryPasswordExpiresAt',
    reason: 'the step completes only when record.login?.mustChangePassword was true (checked above it), so record.login is defined here',
  },
];
