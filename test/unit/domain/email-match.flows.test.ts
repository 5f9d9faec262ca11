/**
 * Mutation-testing rules for lambdas/domain/email-match.ts (issue 20), through
 * requestEmailMatch / confirmEmailMatch on the email-match harness: the per-address budget at
 * its edge and its Retry-After (rule 6), the setting off counting nothing, the record re-read
 * before a link is issued, a confirmation under way left alone, what the trail and the log say
 * (never an address), and what the commit writes. Outcomes only, never the backend calls made.
 */
import { describe, expect, it } from 'vitest';
import { confirmEmailMatch, emailMatchAccepted, emailMatchKeys, emailMatchLimits, requestEmailMatch, verifyLink } from '../../../lambdas/domain/email-match.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { passwordRefusedByPool } from '../../../lambdas/domain/password-policy.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { outage } from '../../support/memory-invitations.ts';
import { emailMatchReady } from './email-match-harness.ts';
import { goodPassword } from './invitation-harness.ts';
import { outcome } from '../../support/domain-outcome.ts';

const ip = '198.51.100.20';

const ready = emailMatchReady;
type H = Awaited<ReturnType<typeof ready>>;
const ask = (h: H, email = ' PAT@example.test ', sourceIp = ip) => requestEmailMatch(h.request, { email, sourceIp });
const edit = (h: H, change: Partial<StoredRecord>) => {
  const doc = h.mem.docs.get('patient:P-1')!;
  doc.value = { ...(doc.value as StoredRecord), ...change };
};
const addressCount = async (h: H, sourceIp = ip) => {
  const keys = emailMatchKeys('x', sourceIp, h.deps.clock());
  return (await h.request.throttle.read(keys.accountKey, keys.addressKey)).addressFailures;
};
const attempt = (token: string, over: Record<string, string> = {}) => ({ token, username: 'pat.one', password: goodPassword, sourceIp: ip, ...over });

describe('rule 6: the per-address budget', () => {
  it('the last request under the budget still goes out; the one at it is 429 with the rest of the window as Retry-After', async () => {
    const h = await ready();
    for (let i = 0; i < emailMatchLimits.requestsPerAddressPerWindow - 1; i++) await ask(h, `n${i}@example.test`);
    expect(await ask(h)).toEqual(emailMatchAccepted);
    expect(h.mail.sent).toHaveLength(1);
    h.advance(5 * 60_000);
    const err = await ask(h).catch((e: DomainError) => e);
    expect(err).toMatchObject({ kind: 'too-many-requests', code: 'too-many-attempts', extra: { retryAfterSeconds: 10 * 60 } });
    expect(h.mail.sent).toHaveLength(1);
  });

  it('a confirmation from an address past its budget is 429 too, even with a live link; another address is not held back', async () => {
    const h = await ready();
    await ask(h, 'pat@example.test', '198.51.100.99');
    const token = h.verifyTokenFor('Pat@Example.test');
    for (let i = 0; i < emailMatchLimits.requestsPerAddressPerWindow; i++) await ask(h, `n${i}@example.test`);
    expect(await outcome(confirmEmailMatch(h.confirm, attempt(token)))).toBe('too-many-requests:too-many-attempts');
    expect(await outcome(confirmEmailMatch(h.confirm, attempt(token, { sourceIp: '198.51.100.98' })))).toBe('ok');
  });

  it('with the method off, nothing is counted and nothing is sent', async () => {
    const h = await ready();
    await h.settings({ emailMatch: false });
    for (let i = 0; i < 3; i++) expect(await ask(h)).toEqual(emailMatchAccepted);
    expect(await addressCount(h)).toBe(0);
    expect(h.mail.sent).toHaveLength(0);
  });

  it('matched or not, each request counts once against the address', async () => {
    const h = await ready();
    await ask(h);
    await ask(h, 'nobody@example.test');
    expect(await addressCount(h)).toBe(2);
  });
});

describe('issuing', () => {
  it('audits the link with its lifetime and what it replaced, never the address', async () => {
    const h = await ready();
    await ask(h);
    h.advance(1000);
    await ask(h);
    expect(h.mem.audit.filter((a) => a.action === 'email-match.requested').map((a) => a.detail)).toEqual([
      { hours: 24, replaced: 'None' },
      { hours: 24, replaced: 'Pending' },
    ]);
    expect(JSON.stringify(h.mem.audit)).not.toMatch(/pat@example/i);
  });

  it('a record the index still lists but that no longer qualifies (a login made meanwhile): nothing sent', async () => {
    const h = await ready();
    const byEmail = h.request.matches.recordsByEmail;
    h.request.matches = {
      ...h.request.matches,
      recordsByEmail: async (email) => {
        const found = await byEmail(email);
        edit(h, { accountId: 'acc-elsewhere' });
        return found;
      },
    };
    expect(await ask(h)).toEqual(emailMatchAccepted);
    expect(h.mail.sent).toHaveLength(0);
    expect(h.leases.states.size).toBe(0);
  });

  it('a confirmation under way keeps its link (no new one sent); once its lease ran out a new request replaces it', async () => {
    const h = await ready();
    await ask(h);
    const s = h.leases.states.get('P-1')!;
    s.lease = { id: 'l-1', until: new Date(h.deps.clock().getTime() + 30_000).toISOString() };
    const before = s.linkId;
    h.advance(29_000);
    await ask(h);
    expect(h.mail.sent).toHaveLength(1);
    expect(h.leases.states.get('P-1')!.linkId).toBe(before);
    h.advance(1000);
    await ask(h);
    expect(h.mail.sent).toHaveLength(2);
    expect(h.leases.states.get('P-1')!.linkId).not.toBe(before);
  });

  it('rule 24: the login an unfinished confirmation made is the one the next link completes', async () => {
    const h = await ready();
    await ask(h);
    h.pool.failOnce.add('upsert');
    await expect(confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test')))).rejects.toMatchObject({ name: 'InternalErrorException' });
    const fixed = h.leases.states.get('P-1')!.accountId;
    expect(fixed).toBeDefined();
    h.advance(1000);
    await ask(h);
    expect(h.leases.states.get('P-1')!.accountId).toBe(fixed);
    expect((await confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test')))).accountId).toBe(fixed);
  });

  it('a shared mailbox: one note to the address on file, logged with the count only; no link', async () => {
    const h = await ready();
    await h.seed('P-2', { email: 'pat@example.test', cases: ['C-2'] });
    await ask(h);
    expect(h.mail.sent.map((m) => m.to)).toEqual(['Pat@Example.test']);
    expect(h.warnings).toEqual([{ msg: 'email-match address on file for several records', fields: { records: 2 } }]);
    expect(h.leases.states.size).toBe(0);
  });

  it('a link that could not be sent is logged by the error name only', async () => {
    const h = await ready();
    h.mail.fail(true);
    await ask(h);
    expect(h.warnings).toEqual([{ msg: 'email-match link not sent', fields: { errorName: 'MessageRejected' } }]);
  });

  it('rule 13: a request that overran its floor is logged with the times, and still answers the one body', async () => {
    const h = await ready();
    let t = 0;
    h.request.timing = { floorMs: 600, monotonicMs: () => (t += 1000), sleep: async () => undefined };
    expect(await ask(h)).toEqual(emailMatchAccepted);
    expect(h.warnings).toEqual([{ msg: 'email-match request overran its time floor', fields: { spentMs: expect.any(Number), floorMs: 600 } }]);
    const quiet = await ready();
    expect(await ask(quiet)).toEqual(emailMatchAccepted);
    expect(quiet.warnings).toEqual([]);
  });

  it('rule 14: the verify link is the portal URL without its trailing slashes', () => {
    expect(verifyLink('https://portal.maple.test//', 'a+b')).toBe('https://portal.maple.test/portal/verify#token=a%2Bb');
  });
});

describe('confirming', () => {
  it('a pending or locked staff invitation is cancelled; any other invite status is left; first login stamped, "must change" gone', async () => {
    for (const [status, after] of [
      ['Locked', 'Cancelled'],
      ['None', 'None'],
      ['Expired', 'Expired'],
    ] as const) {
      const h = await ready();
      edit(h, { invite: { status }, login: { mustChangePassword: true } });
      await ask(h);
      const done = await confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test')));
      const record = h.record('P-1')!;
      expect(record.invite.status).toBe(after);
      expect(record).toMatchObject({ accountId: done.accountId, registration: 'NormalRegistration', registeredAt: h.deps.clock().toISOString() });
      expect(record.login).toBeUndefined();
      expect(await h.confirm.accounts.findByUsername('Pat.One')).toEqual({ accountId: done.accountId, patientId: 'P-1' });
    }
  });

  it('rule 31: a password the pool refuses is the 400 naming body.password; the login is not kept; the link still works', async () => {
    const h = await ready();
    await ask(h);
    const token = h.verifyTokenFor('Pat@Example.test');
    const upsert = h.confirm.logins.upsert;
    let refuse = true;
    h.confirm.logins = {
      ...h.confirm.logins,
      upsert: async (id, password) => {
        if (refuse) {
          refuse = false;
          throw passwordRefusedByPool();
        }
        return upsert(id, password);
      },
    };
    const err = await confirmEmailMatch(h.confirm, attempt(token)).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect((err as DomainError).extra.errors).toEqual(passwordRefusedByPool('body.password').extra.errors);
    expect(h.leases.states.get('P-1')).toMatchObject({ status: 'Pending' });
    expect(await outcome(confirmEmailMatch(h.confirm, attempt(token)))).toBe('ok');
  });

  it('rules 11 and 29: the record changing under the lease (email, access, a login, its links cut) is the one 410 and the login is removed', async () => {
    const changes: ((r: StoredRecord) => Partial<StoredRecord>)[] = [
      () => ({ email: 'other@example.test' }),
      () => ({ accessEnabled: false }),
      () => ({ accountId: 'acc-elsewhere' }),
      (r) => ({ linkGeneration: (r.linkGeneration ?? 0) + 1 }),
    ];
    for (const change of changes) {
      const h = await ready();
      await ask(h);
      const upsert = h.confirm.logins.upsert;
      h.confirm.logins = {
        ...h.confirm.logins,
        upsert: async (id, password) => {
          const made = await upsert(id, password);
          edit(h, change(h.record('P-1')!));
          return made;
        },
      };
      expect(await outcome(confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test'))))).toBe('gone:link-gone');
      expect(h.pool.users.size).toBe(0);
    }
  });

  it('a record deleted under the lease: the one 410', async () => {
    const h = await ready();
    await ask(h);
    const upsert = h.confirm.logins.upsert;
    h.confirm.logins = {
      ...h.confirm.logins,
      upsert: async (id, password) => {
        const made = await upsert(id, password);
        h.mem.docs.delete('patient:P-1');
        return made;
      },
    };
    expect(await outcome(confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test'))))).toBe('gone:link-gone');
  });

  it('rule 11: the record email changed (even without a cut), a record without email, a link without its email hash: the one 410', async () => {
    for (const breakIt of [
      (h: H) => edit(h, { email: 'other@example.test' }),
      (h: H) => edit(h, { email: undefined }),
      (h: H) => void delete h.leases.states.get('P-1')!.data,
    ]) {
      const h = await ready();
      await ask(h);
      breakIt(h);
      expect(await outcome(confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test'))))).toBe('gone:link-gone');
    }
  });

  it('another Cognito failure passes through as it is; nothing is left half done', async () => {
    const h = await ready();
    await ask(h);
    h.confirm.logins = { ...h.confirm.logins, upsert: async () => Promise.reject(outage('InternalErrorException')) };
    await expect(confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test')))).rejects.toMatchObject({ name: 'InternalErrorException' });
    expect(h.record('P-1')!.accountId).toBeUndefined();
  });
});
