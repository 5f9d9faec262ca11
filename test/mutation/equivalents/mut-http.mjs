// @ts-check
/**
 * Equivalent mutants of lambdas/http and the sign-in domain files (issue 20, branch mut-http):
 * no behaviour can tell them from the original. Each `code` is the exact source text of the
 * narrowest expression holding the mutant, and every other mutant inside that expression is
 * equivalent too (an entry hides all of them); see ./core.mjs for how the list is read.
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
    code: 'record.login?.temporaryPasswordExpiresAt',
    reason: 'the step completes only when record.login?.mustChangePassword was true (checked above it), so record.login is defined here',
  },
  {
    file: 'lambdas/domain/staff-sign-in.ts',
    code: "''",
    reason: "the source address given to throttleKeys for the used-code mark: only its accountKey is used, which does not depend on it (the only '' in the file)",
  },
  {
    file: 'lambdas/domain/staff-sign-in.ts',
    code: "cipher.update(JSON.stringify(value), 'utf8')",
    reason: "Cipher.update(string) reads the string as UTF-8 by default, the same as 'utf8'",
  },
  {
    file: 'lambdas/domain/staff-sign-in.ts',
    code: '{\n    return undefined;\n  }',
    reason: 'an empty catch block falls off the end of open(), which returns undefined as well',
  },
  {
    file: 'lambdas/http/parse.ts',
    code: "Buffer.byteLength(text, 'utf8')",
    reason: "Buffer.byteLength counts a string as UTF-8 when the encoding is '' or unknown, the same as 'utf8'",
  },
];
