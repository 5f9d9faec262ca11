import { describe, expect, it } from 'vitest';
import {
  confirmEmailMatch,
  EMAIL_MATCH_LINK_HOURS,
  emailMatchAccepted,
  emailMatchLimits,
  requestEmailMatch,
} from '../../../lambdas/domain/email-match.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { hashToken, sendInvitation } from '../../../lambdas/domain/invitations.ts';
import { editRecord } from '../../../lambdas/domain/portal-record.ts';
import { register } from '../../../lambdas/domain/registration.ts';
import { emailMatchHarness } from './email-match-harness.ts';
import { goodPassword, staff } from './invitation-harness.ts';
import { outcome } from '../../support/domain-outcome.ts';

const HOUR = 60 * 60 * 1000;
const ip = '198.51.100.20';


/** P-1 on file with pat@example.test, self-registration on. */
async function ready() {
  const h = emailMatchHarness();
  await h.seed('P-1', { email: 'Pat@Example.test', cases: ['C-1'] });
  await h.settings({ emailMatch: true });
  return h;
}

async function requested(h: Awaited<ReturnType<typeof ready>>) {
  expect(await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: ip })).toEqual(emailMatchAccepted);
  return h.verifyTokenFor('Pat@Example.test');
}

describe('requesting a verification link', () => {
  it('emails a verify link built from the portal URL to the address on file (any case), valid 24 hours, token stored only hashed', async () => {
    const h = await ready();
    const token = await requested(h);
    expect(token.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url (rule 9: ≥ 128)
    const [mail] = h.mail.sent;
    expect(mail!.text).toContain(`https://portal.maple.test/portal/verify#token=${token}`);
    expect(mail!.html).toContain(`https://portal.maple.test/portal/verify#token=${token}`);
    expect(mail!.text).toContain('Maple & Oak <Clinic>');
    const state = await h.matches.get('P-1');
    expect(state).toMatchObject({ status: 'Pending', tokenHash: hashToken(token), failures: 0 });
    expect(Date.parse(state!.expiresAt) - h.deps.clock().getTime()).toBe(EMAIL_MATCH_LINK_HOURS * HOUR);
    expect(JSON.stringify([...h.leases.states.values(), ...h.leases.pointers.values()])).not.toContain(token);
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'email-match.requested', actor: 'anonymous', target: 'patient:P-1', sourceIp: ip });
    expect(JSON.stringify(h.mem.audit)).not.toMatch(/pat@example/i);
  });

  it('rule 13: matched, unmatched, disabled, registered and setting-off requests all answer the one body after the same floor', async () => {
    const h = await ready();
    await h.seed('P-2', { email: 'off@example.test', accessEnabled: false });
    const answers = [];
    for (const email of ['pat@example.test', 'nobody@example.test', 'off@example.test']) {
      answers.push(await requestEmailMatch(h.request, { email, sourceIp: ip }));
    }
    await h.settings({ emailMatch: false });
    answers.push(await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: ip }));
    for (const a of answers) expect(a).toEqual(emailMatchAccepted);
    // Each request measured 10 ms of work and waited the rest of the 600 ms floor.
    expect(h.slept).toEqual([590, 590, 590, 590]);
    expect(h.mail.sent.map((m) => m.to)).toEqual(['Pat@Example.test']);
  });

  it('sends nothing for a record with a login, access off, or no match; and nothing when the practice has self-registration off', async () => {
    const h = emailMatchHarness();
    await h.seed('P-1', { email: 'pat@example.test' });
    await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: ip });
    expect(h.mail.sent).toHaveLength(0); // emailMatch defaults to false
    await h.settings({ emailMatch: true });
    await h.seed('P-3', { email: 'off@example.test', accessEnabled: false });
    await requestEmailMatch(h.request, { email: 'off@example.test', sourceIp: ip });
    await requestEmailMatch(h.request, { email: 'unknown@example.test', sourceIp: ip });
    expect(h.mail.sent).toHaveLength(0);
  });

  it('a shared family address gets a note to call the practice and no link', async () => {
    const h = await ready();
    await h.seed('P-2', { email: 'pat@example.test' });
    await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: ip });
    expect(h.mail.sent).toHaveLength(1);
    expect(h.mail.sent[0]!.text).toMatch(/More than one patient uses this address/);
    expect(h.mail.sent[0]!.text).not.toMatch(/token=/);
    expect(h.leases.pointers.size).toBe(0);
  });

  it('at most 3 emails per address an hour, the same 202 after that; the next hour works again', async () => {
    const h = await ready();
    for (let i = 0; i < 5; i++) expect(await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: `198.51.100.${i}` })).toEqual(emailMatchAccepted);
    expect(h.mail.sent).toHaveLength(emailMatchLimits.requestsPerEmailPerHour);
    h.advance(HOUR);
    await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: ip });
    expect(h.mail.sent).toHaveLength(4);
  });

  it('rule 6: past the per-address budget the answer is 429 with Retry-After, matched or not', async () => {
    const h = await ready();
    for (let i = 0; i < emailMatchLimits.requestsPerAddressPerWindow; i++) {
      await requestEmailMatch(h.request, { email: `n${i}@example.test`, sourceIp: ip });
    }
    for (const email of ['pat@example.test', 'nobody@example.test']) {
      const err = await requestEmailMatch(h.request, { email, sourceIp: ip }).catch((e: DomainError) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).kind).toBe('too-many-requests');
      expect((err as DomainError).extra.retryAfterSeconds).toBeGreaterThan(0);
    }
  });

  it('a new request replaces the link: the old one is dead', async () => {
    const h = await ready();
    const first = await requested(h);
    h.advance(1000);
    const second = await requested(h);
    expect(second).not.toBe(first);
    expect(await outcome(confirmEmailMatch(h.confirm, { token: first, username: 'pat.one', password: goodPassword, sourceIp: ip }))).toBe('gone:link-gone');
    expect(await outcome(confirmEmailMatch(h.confirm, { token: second, username: 'pat.one', password: goodPassword, sourceIp: ip }))).toBe('ok');
  });

  it('rule 13: a failure only the matched path can meet (the transaction, SES) still answers the one 202', async () => {
    const h = await ready();
    h.failIssue.on = true;
    expect(await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: ip })).toEqual(emailMatchAccepted);
    h.failIssue.on = false;
    h.mail.fail(true);
    expect(await requestEmailMatch(h.request, { email: 'pat@example.test', sourceIp: ip })).toEqual(emailMatchAccepted);
  });
});

describe('confirming', () => {
  it('creates the login, marks Normal Registration, kills the link, audits with the method', async () => {
    const h = await ready();
    const token = await requested(h);
    const done = await confirmEmailMatch(h.confirm, { token, username: 'pat.one', password: goodPassword, sourceIp: ip });
    expect(done).toEqual({ accountId: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'pat.one' });
    expect(h.pool.users.get(done.accountId)).toBe(goodPassword);
    expect(h.record('P-1')).toMatchObject({ accountId: done.accountId, username: 'pat.one', registration: 'NormalRegistration' });
    expect(h.leases.pointers.size).toBe(0);
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'registration.completed', actor: done.accountId, detail: { method: 'email-match' } });
    expect(await outcome(confirmEmailMatch(h.confirm, { token, username: 'pat.two', password: goodPassword, sourceIp: ip }))).toBe('gone:link-gone');
  });

  it('rule 11: expired, used, replaced, email-changed, revoked, registered-by-invitation and unknown links get the same error', async () => {
    const errors: DomainError[] = [];
    const take = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      if (!(err instanceof DomainError)) throw new Error(`expected a refusal, got ${String(err)}`);
      errors.push(err);
    };
    const attempt = (token: string) => ({ token, username: `u${errors.length}-pat`, password: goodPassword, sourceIp: ip });
    {
      const h = await ready(); // expired
      const token = await requested(h);
      h.advance(EMAIL_MATCH_LINK_HOURS * HOUR + 1);
      await take(confirmEmailMatch(h.confirm, attempt(token)));
    }
    {
      const h = await ready(); // used
      const token = await requested(h);
      await confirmEmailMatch(h.confirm, attempt(token));
      await take(confirmEmailMatch(h.confirm, attempt(token)));
    }
    {
      const h = await ready(); // the record's email changed
      const token = await requested(h);
      await editRecord({ ...h.deps }, staff, 'P-1', { email: 'new@example.test' }, undefined);
      await take(confirmEmailMatch(h.confirm, attempt(token)));
    }
    {
      const h = await ready(); // access turned off and on again after the link was sent
      const token = await requested(h);
      h.advance(2000);
      await editRecord({ ...h.deps }, staff, 'P-1', { accessEnabled: false }, undefined);
      await editRecord({ ...h.deps }, staff, 'P-1', { accessEnabled: true }, undefined);
      await take(confirmEmailMatch(h.confirm, attempt(token)));
    }
    {
      const h = await ready(); // registered through a staff invitation meanwhile
      const token = await requested(h);
      const { pin } = await sendInvitation(h.deps, staff, 'P-1');
      await register(h.reg, { token: h.tokenFor('Pat@Example.test'), pin, username: 'pat.inv', password: goodPassword, sourceIp: ip });
      await take(confirmEmailMatch(h.confirm, attempt(token)));
    }
    {
      const h = await ready(); // unknown
      await take(confirmEmailMatch(h.confirm, attempt('A'.repeat(43))));
    }
    expect(errors).toHaveLength(6);
    for (const e of errors) expect({ kind: e.kind, code: e.code, message: e.message, extra: e.extra }).toEqual({ kind: 'gone', code: 'link-gone', message: errors[0]!.message, extra: {} });
  });

  it('rule 3: a weak password or one holding the email is 400 with the reason; the link still works', async () => {
    const h = await ready();
    const token = await requested(h);
    const weak = await confirmEmailMatch(h.confirm, { token, username: 'pat.one', password: 'passwordpassword', sourceIp: ip }).catch((e: DomainError) => e);
    expect(weak).toMatchObject({ kind: 'bad-request', extra: { errors: [{ path: 'body.password', message: expect.stringMatching(/common/) }] } });
    const withEmail = await confirmEmailMatch(h.confirm, { token, username: 'pat.one', password: 'my mailbox pat@example.test rocks', sourceIp: ip }).catch((e: DomainError) => e);
    expect((withEmail as DomainError).extra.errors?.map((e) => e.message)).toContain('must not contain your email address');
    expect(await outcome(confirmEmailMatch(h.confirm, { token, username: 'pat.one', password: goodPassword, sourceIp: ip }))).toBe('ok');
  });

  it('a username already taken is 409 and the link is not consumed', async () => {
    const h = await ready();
    await h.seed('P-2', { email: 'two@example.test' });
    const t2 = (await requestEmailMatch(h.request, { email: 'two@example.test', sourceIp: ip }), h.verifyTokenFor('two@example.test'));
    await confirmEmailMatch(h.confirm, { token: t2, username: 'Taken.Name', password: goodPassword, sourceIp: ip });
    const token = await requested(h);
    expect(await outcome(confirmEmailMatch(h.confirm, { token, username: 'taken.name', password: goodPassword, sourceIp: ip }))).toBe('conflict:username-taken');
    expect(await outcome(confirmEmailMatch(h.confirm, { token, username: 'pat.one', password: goodPassword, sourceIp: ip }))).toBe('ok');
  });

  it('rule 25: 20 confirmations at once give exactly one login', async () => {
    const h = await ready();
    const token = await requested(h);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => outcome(confirmEmailMatch(h.confirm, { token, username: 'pat.one', password: goodPassword, sourceIp: ip }))),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    for (const r of results.filter((x) => x !== 'ok')) expect(['conflict:registration-in-progress', 'gone:link-gone']).toContain(r);
    expect(h.pool.users.size).toBe(1);
  });

  it('rule 24: Cognito failing, then the commit failing: a retry of the same request completes the same login', async () => {
    const h = await ready();
    const token = await requested(h);
    const attempt = { token, username: 'pat.one', password: goodPassword, sourceIp: ip };
    const failed = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error) => e.name);
    h.pool.failOnce.add('upsert');
    expect(await failed(confirmEmailMatch(h.confirm, attempt))).toBe('InternalErrorException');
    h.leases.failOnce.add('complete');
    expect(await failed(confirmEmailMatch(h.confirm, attempt))).toBe('InternalServerError');
    expect(h.pool.users.size).toBe(1); // made, and kept for the retry
    const done = await confirmEmailMatch(h.confirm, attempt);
    expect(h.pool.users.size).toBe(1);
    expect(h.pool.users.has(done.accountId)).toBe(true);
    expect(h.record('P-1')?.accountId).toBe(done.accountId);
  });

  it('a pending staff invitation is cancelled on the record when the patient registers by email', async () => {
    const h = await ready();
    const { pin } = await sendInvitation(h.deps, staff, 'P-1');
    const inviteToken = h.tokenFor('Pat@Example.test');
    const token = await requested(h);
    await confirmEmailMatch(h.confirm, { token, username: 'pat.one', password: goodPassword, sourceIp: ip });
    expect(h.record('P-1')?.invite.status).toBe('Cancelled');
    expect(await outcome(register(h.reg, { token: inviteToken, pin, username: 'pat.two', password: goodPassword, sourceIp: ip }))).toBe('gone:invitation-gone');
  });
});
