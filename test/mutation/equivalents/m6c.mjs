// @ts-check
/**
 * Equivalent mutants of patient-access, staff-admin, permissions and account (issue 20, branch
 * m6c). Each a one-line reason a reviewer can check against the source.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/patient-access.ts',
    code: "'unlock'",
    reason: "clearSignInLock reads only `account` from throttle.read; the address key names an item whose count it never looks at (any string is a valid key: THROTTLE#address#<key>)",
  },
  {
    file: 'lambdas/domain/staff-admin.ts',
    code: "'disable'",
    reason: "error wording: selfChange(what) only builds the 409's message text; kind and code stay 'conflict' / 'own-account'",
  },
  {
    file: 'lambdas/domain/staff-admin.ts',
    code: "'remove the admin role from'",
    reason: "error wording: selfChange(what) only builds the 409's message text; kind and code stay 'conflict' / 'own-account'",
  },
];
