// @ts-check
/**
 * Equivalent mutants of the invitation side (issue 20, round 6 helper m6d): invitations.ts,
 * email-match.ts, registration.ts, phone-codes.ts. Each `code` is the exact source text of the
 * narrowest expression; every mutant inside it is ignored with the reason. The equivalent
 * survivors that could not be listed (their expression also holds mutants a test kills) are
 * named, with their reasons, in the round's report.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/phone-codes.ts',
    code: '[]',
    reason: 'sendsInLastHour(undefined): any stand-in list of non-dates is filtered out (Date.parse gives NaN, never > the hour-ago time), leaving [] as before',
  },
];
