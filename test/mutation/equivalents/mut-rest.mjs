// @ts-check
/**
 * Equivalent mutants of diagnosis, delivery, auto-invite, practice-notices, audit, recent-sign-ins,
 * errors, settings, common-passwords and ports (issue 20, branch mut-rest): no behaviour can tell
 * each from the original. See ./core.mjs for the format.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/diagnosis.ts',
    code: "'diagnosis'",
    reason: 'the address key of ThrottleStore.read: its counter (addressFailures) is never read by the diagnosis, only the account one',
  },
  {
    file: 'lambdas/domain/diagnosis.ts',
    code: 'tempExpiry !== undefined',
    reason: 'without an expiry Date.parse(undefined) is NaN and `NaN <= now` is false: no expiry is "not expired" either way (the check is for the type)',
  },
  {
    file: 'lambdas/domain/errors.ts',
    code: 'Math.random() * 10 * attempt',
    reason: 'the pause between tries only spreads writers that collided; its length changes timing, never an outcome (speed is never asserted)',
  },
  {
    file: 'lambdas/domain/recent-sign-ins.ts',
    code: "''",
    reason: 'a reason that is not a string looks up words[""]; any other non-reason text ("Stryker was here!") is not a key of words either: same fallback',
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: "Buffer.from(patientId, 'utf8')",
    reason: "Buffer.from(string, '') encodes as UTF-8, the default, like 'utf8'",
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: "''",
    reason: 'both fallbacks are "no value": an empty patient tag and any other non-hex text are refused alike; an empty and any other unknown bounce sub-type are a plain Bounce alike',
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: 'record.mail.tags?.[PURPOSE_TAG]',
    reason: 'reached only after the patient tag was read from the same tags, so tags is defined here',
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: 'default:\n      return undefined;',
    reason: 'a switch case without a body falls off the end of readSesEvent, which returns undefined just the same',
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: 'a > b',
    reason: 'in the branch where a !== b, a >= b is a > b',
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: 'invite.deliveryAt !== undefined',
    reason: 'without a time Date.parse(undefined) is NaN and `NaN >= x` is false: "not marked" either way (the check is for the type)',
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: 'invite.sentAt !== undefined',
    reason: 'without sentAt the next comparison is against NaN and false: "not for this invitation" either way (the check is for the type)',
  },
  {
    file: 'lambdas/domain/delivery.ts',
    code: 'invite.deliveryAt === undefined',
    reason: 'isLater answers true for a shown time that is undefined: the same as this shortcut',
  },
];
