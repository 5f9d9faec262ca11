// @ts-check
/**
 * Equivalent mutants found by helper m6e (issue 20): portal-record, patient-sign-in,
 * self-registration. Each `code` is the exact source text of the narrowest expression; see
 * core.mjs for the format. Equivalent survivors whose narrowest expression also holds a killable
 * mutant (the `!== undefined` type guards before Date.parse or `>=`, `field === 'cases' &&`, and
 * `link?.accountId`, which also stands on the unknown-username path) are not listed: their
 * reasons are in the closing note.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/self-registration.ts',
    code: '`link:${tokenHash}`',
    reason:
      "verify reads only the source address's counter (addressFailures); the per-target counter it bumps is never read, and no request's target (a SHA-256 hex) is '' or link:…, so its name decides nothing",
  },
];
