/**
 * Mutation-testing rules for lambdas/domain/email-match.ts (issue 20), the cases the flows tests
 * did not reach: the per-email budget across an hour of a moving clock (rule 6), an index that is
 * behind the record (deleted, email removed or changed: nothing sent, nothing logged), a shared
 * mailbox where only one record is eligible, the ambiguous note naming the practice, the log's
 * error name for a thrown non-Error, the username check before anything is written, and the
 * commit linking the new login to its patient. Outcomes only, never the backend calls made.
 */
import { describe, expect, it } from 'vitest';
import { confirmEmailMatch, emailMatchLimits, requestEmailMatch } from '../../../lambdas/domain/email-match.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { emailMatchReady } from './email-match-harness.ts';
import { goodPassword } from './invitation-harness.ts';
import { outcome } from '../../support/domain-outcome.ts';

const ip = '198.51.100.21';

const ready = emailMatchReady;
type H = Awaited<ReturnType<typeof ready>>;
const ask = (h: H, email = 'pat@example.test') => requestEmailMatch(h.request, { email, sourceIp: ip });
const edit = (h: H, patientId: string, change: Partial<StoredRecord> | undefined) => {
  if (change === undefined) return void h.mem.docs.delete(`patient:${patientId}`);
  const doc = h.mem.docs.get(`patient:${patientId}`)!;
  doc.value = { ...(doc.value as StoredRecord), ...change };
};
/** The byEmail index as it was before `change`: it is eventually consistent, the record itself is not. */
function indexBehind(h: H, change: () => void) {
  const recordsByEmail = h.request.matches.recordsByEmail;
  const before = new Map<string, StoredRecord[]>();
  h.request.matches = {
    ...h.request.matches,
    async recordsByEmail(email) {
      return before.get(email) ?? [];
    },
  };
  return async (email: string) => {
    before.set(email, await recordsByEmail(email));
    change();
  };
}
const attempt = (token: string, over: Record<string, string> = {}) => ({ token, username: 'pat.one', password: goodPassword, sourceIp: ip, ...over });

describe('rule 6: the per-email budget is per clock hour, not per moment', () => {
  it('requests a few minutes apart within one hour share the budget; the next hour has a fresh one', async () => {
    const h = await ready();
    for (let i = 0; i < emailMatchLimits.requestsPerEmailPerHour + 1; i++) {
      await ask(h);
      h.advance(60_000);
    }
    expect(h.mail.sent).toHaveLength(emailMatchLimits.requestsPerEmailPerHour);
    h.advance(60 * 60_000);
    await ask(h);
    expect(h.mail.sent).toHaveLength(emailMatchLimits.requestsPerEmailPerHour + 1);
  });
});

describe('rule 13: the index behind the record (the record is read again before acting)', () => {
  for (const [name, change] of [
    ['deleted', undefined],
    ['its email removed', { email: undefined }],
    ['its email changed to another address', { email: 'new@example.test' }],
  ] as const) {
    it(`a record ${name} since the index saw it: nothing sent, nothing logged, the one 202`, async () => {
      const h = await ready();
      const snapshot = indexBehind(h, () => edit(h, 'P-1', change));
      await snapshot('pat@example.test');
      expect(h.mem.docs.has('patient:P-1')).toBe(change !== undefined);
      await ask(h);
      expect(h.mail.sent).toEqual([]);
      expect(h.warnings).toEqual([]);
    });
  }

  it('an address no record holds: nothing sent, nothing logged', async () => {
    const h = await ready();
    await ask(h, 'nobody@example.test');
    expect(h.mail.sent).toEqual([]);
    expect(h.warnings).toEqual([]);
  });
});

describe('a shared mailbox', () => {
  it('where the other record already has a login, the one without gets its link (no ambiguous note)', async () => {
    const h = await ready();
    await h.seed('P-2', { email: 'pat@example.test', cases: ['C-2'] });
    edit(h, 'P-2', { accountId: 'acct-2', username: 'pat.two' });
    await ask(h);
    expect(h.mail.sent).toHaveLength(1);
    expect(h.verifyTokenFor('Pat@Example.test')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(h.warnings).toEqual([]);
  });

  it('where both are eligible, the note names the practice and holds no link', async () => {
    const h = await ready();
    await h.seed('P-2', { email: 'pat@example.test', cases: ['C-2'] });
    await ask(h);
    expect(h.mail.sent).toHaveLength(1);
    expect(h.mail.sent[0]!.text).toContain('Please call Maple & Oak <Clinic> and ask');
    expect(h.mail.sent[0]!.text).not.toContain('#token=');
  });
});

describe('the log names the error, or "unknown" for a thrown non-Error (never the address)', () => {
  it('the matched path failing with a thrown string: the one 202, one warning', async () => {
    const h = await ready();
    h.request.mailer = {
      async send() {
        throw 'refused';
      },
    };
    await ask(h);
    expect(h.warnings).toEqual([{ msg: 'email-match link not sent', fields: { errorName: 'unknown' } }]);
  });

  it('without a warn hook an overrun request still answers the 202', async () => {
    const h = await ready();
    delete h.request.warn;
    let t = 0;
    h.request.timing = { floorMs: 600, monotonicMs: () => (t += 1000), sleep: async () => undefined };
    expect(await outcome(ask(h))).toBe('ok');
    expect(h.mail.sent).toHaveLength(1);
  });
});

describe('confirming', () => {
  it('rule 3: a weak password is 400 validation-error naming body.password', async () => {
    const h = await ready();
    await ask(h);
    const token = h.verifyTokenFor('Pat@Example.test');
    expect(await outcome(confirmEmailMatch(h.confirm, attempt(token, { password: 'short' })))).toBe('bad-request:validation-error');
  });

  it('a username another patient holds is 409 before anything is written: the link state untouched, no login made', async () => {
    const h = await ready();
    await ask(h);
    const token = h.verifyTokenFor('Pat@Example.test');
    h.confirm.accounts = { findByUsername: async (u) => (u === 'taken.name' ? { accountId: 'acct-x', patientId: 'P-9' } : undefined) };
    const before = structuredClone(h.leases.states.get('P-1'));
    let upserts = 0;
    const upsert = h.confirm.logins.upsert;
    h.confirm.logins = { ...h.confirm.logins, upsert: async (id, pw) => (upserts++, upsert(id, pw)) };
    expect(await outcome(confirmEmailMatch(h.confirm, attempt(token, { username: 'taken.name' })))).toBe('conflict:username-taken');
    expect(h.leases.states.get('P-1')).toEqual(before);
    expect(upserts).toBe(0);
  });

  it('the commit links the new login to its patient', async () => {
    const h = await ready();
    await ask(h);
    const done = await confirmEmailMatch(h.confirm, attempt(h.verifyTokenFor('Pat@Example.test')));
    expect(h.leases.accounts.get(done.accountId)).toBe('P-1');
  });
});
