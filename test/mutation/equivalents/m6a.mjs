// @ts-check
/**
 * Equivalent mutants of round 6, helper m6a (issue 20): resets, secrets, sign-in-throttle,
 * one-time-link, equal-time. See core.mjs for how `code` is matched (every node of `file` whose
 * source text is exactly `code` is ignored, with everything inside it).
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/resets.ts',
    code: "throttleKeys('reset', target, sourceIp, now)",
    reason: "the pool name only salts the hashed keys: '' is a key space no other flow uses (ThrottlePool) and nothing reads the reset keys by pool name",
  },
  {
    file: 'lambdas/domain/resets.ts',
    code: '[]',
    reason: 'a reset without email times: any made-up entry parses to NaN, and `now - NaN < HOUR_MS` is false, so the filter drops it',
  },
  {
    file: 'lambdas/domain/resets.ts',
    code: 'record.username.toLowerCase()',
    reason: "upper-casing one side only makes the holder check run for the login's own name too, whose holder is the login itself (claimed when it was set): never refused",
  },
];
