// @ts-check
/**
 * Equivalent mutants of the access files (issue 20, branch mut-access): password-policy,
 * forced-change, account, patient-access, staff-admin, lobby, portal-record. Each a one-line
 * reason a reviewer can check against the source.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/password-policy.ts',
    code: 'length > 0',
    reason: 'for the empty password new Set("").size is 0, never 1: "one character repeated" is false with or without the guard',
  },
  {
    file: 'lambdas/domain/forced-change.ts',
    code: 'i < items.length',
    reason: 'one more turn at i === items.length marks items.slice(i, i + size) = [] with Promise.all([]): nothing marked, nothing counted',
  },
  {
    file: 'lambdas/domain/account.ts',
    code: "'The account'",
    reason: "error wording: notFound(what) only builds the 404's message text; kind and code stay 'not-found'",
  },
  {
    file: 'lambdas/domain/account.ts',
    code: '[g.endedAt, g.until, now].filter((t): t is string => t !== undefined)',
    reason: 'Array.prototype.sort puts undefined after every string and now is always there: [0] is the earliest time given, filtered or not',
  },
  {
    file: 'lambdas/domain/patient-access.ts',
    code: "'The portal record'",
    reason: "error wording: notFound(what) only builds the 404's message text; kind and code stay 'not-found'",
  },
  {
    file: 'lambdas/domain/patient-access.ts',
    code: '() => false',
    reason: 'a failed re-read answers `saved`, which is only read as !saved: undefined (the mutant) is falsy like false',
  },
  {
    file: 'lambdas/domain/portal-record.ts',
    code: "typeof stamp === 'number'",
    reason: 'Number.isSafeInteger is false for anything that is not a number, so the typeof guard decides nothing',
  },
  {
    file: 'lambdas/domain/portal-record.ts',
    code: "'The portal record'",
    reason: "error wording: notFound(what) only builds the 404's message text; kind and code stay 'not-found'",
  },
  {
    file: 'lambdas/domain/portal-record.ts',
    code: 'current?.email',
    reason: 'read only after loginEmailChanged, which is true only when current is defined (current?.accountId !== undefined)',
  },
];
