// @ts-check
/**
 * Equivalent mutants of the one-time link files (issue 20, branch mut-links): one-time-link.ts,
 * resets.ts, invitations.ts, email-match.ts, registration.ts. Each `code` is the exact source text
 * of the narrowest expression; the reason says why no behaviour can tell the mutant apart.
 *
 * @type {{ file: string, code: string, reason: string }[]}
 */
export default [
  {
    file: 'lambdas/domain/one-time-link.ts',
    code: '`link:${tokenHash}`',
    reason:
      "lookUp reads only the ADDRESS counter (addressFailures); the per-target counter it also bumps is read by no flow (secrets use `pin:` keys), so which target key it names changes nothing",
  },
  {
    file: 'lambdas/domain/one-time-link.ts',
    code: '[undefined, undefined]',
    reason: 'destructuring [] gives the same two undefined values as [undefined, undefined]',
  },
  {
    file: 'lambdas/domain/one-time-link.ts',
    code: 'failures !== undefined',
    reason: '`undefined >= policy.maxFailures` is false, so dropping the undefined check gives the same `locked`',
  },
  {
    file: 'lambdas/domain/one-time-link.ts',
    code: "'unauthorized'",
    reason:
      "the kind of `refusal()` is never read: it only lives between a secret compare and checkSecrets (and resets' guard), which test its code and turn it into the flow's wrongSecret",
  },
];
