/**
 * Mutation-testing rules for lambdas/domain/invitations.ts (issue 20), the cases the flows tests
 * did not reach: a record that reads Pending with no link state behind it (resend and cancel
 * answer 404, never crash), the delivery mark racing a concurrent writer (re-read, then marked
 * only if the invitation is still this one), a failed email leaving the committed record alone,
 * the warnings' error name for a thrown non-Error, and two registrations at once (rule 25).
 */
import { describe, expect, it } from 'vitest';
import { cancelInvitation, resendInvitation, sendInvitation } from '../../../lambdas/domain/invitations.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { register } from '../../../lambdas/domain/registration.ts';
import { goodPassword, harness, staff, code } from './invitation-harness.ts';

const ip = '198.51.100.1';
const audits = (h: ReturnType<typeof harness>, action: string) => h.mem.audit.filter((a) => a.action === action);

/** Once, right before the next record save: `change` the stored record as a concurrent writer would (its version moves on). */
function concurrentWriter(h: ReturnType<typeof harness>, change: (r: StoredRecord) => StoredRecord | undefined) {
  h.mem.onBeforeSave(() => {
    h.mem.onBeforeSave(undefined);
    const doc = h.mem.docs.get('patient:P-1')!;
    const next = change(doc.value as StoredRecord);
    if (next === undefined) h.mem.docs.delete('patient:P-1');
    else h.mem.docs.set('patient:P-1', { value: { ...next, version: next.version + 1 }, version: doc.version + 1 });
  });
}

/** Arms `concurrentWriter` once the email is out, so it races the delivery mark only. */
function racingTheMark(h: ReturnType<typeof harness>, change: (r: StoredRecord) => StoredRecord | undefined) {
  const send = h.mail.mailer.send;
  h.deps.mailer = {
    async send(email) {
      await send(email);
      concurrentWriter(h, change);
    },
  };
}

describe('rule 18: a record that reads Pending with no invitation behind it', () => {
  it('resend and cancel answer 404 no-pending-invitation (never a crash), and write nothing', async () => {
    const h = harness();
    await h.seed('P-1');
    await sendInvitation(h.deps, staff, 'P-1');
    h.inv.invitations.delete('P-1');
    const before = structuredClone(h.record('P-1'));
    expect(await code(resendInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
    expect(await code(cancelInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
    expect(h.record('P-1')).toEqual(before);
    expect(h.mail.sent).toHaveLength(1);
  });
});

describe('rule 24: the delivery mark against a concurrent writer', () => {
  it('an unrelated edit between the email and the mark: read again, still marked Sent', async () => {
    const h = harness();
    await h.seed('P-1');
    racingTheMark(h, (r) => ({ ...r, phone: '+15555550100' }));
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    expect(sent.delivery).toBe('Sent');
    expect(h.record('P-1')!.invite.delivery).toBe('Sent');
    expect(h.record('P-1')!.phone).toBe('+15555550100');
    expect(sent.record.invite.delivery).toBe('Sent');
  });

  it('a newer invitation (another sentAt) between the email and the mark keeps its own Failed mark', async () => {
    const h = harness();
    await h.seed('P-1');
    racingTheMark(h, (r) => ({ ...r, invite: { ...r.invite, sentAt: '2026-11-21T10:00:01.000Z', delivery: 'Failed' } }));
    await sendInvitation(h.deps, staff, 'P-1');
    expect(h.record('P-1')!.invite).toMatchObject({ status: 'Pending', sentAt: '2026-11-21T10:00:01.000Z', delivery: 'Failed' });
    expect(audits(h, 'invitation.emailed')).toHaveLength(1);
  });

  it('a record deleted between the email and the mark: the email is still audited, nothing warned, the answer Sent', async () => {
    const h = harness();
    await h.seed('P-1');
    const warnings: unknown[] = [];
    h.deps.warn = (msg, fields) => void warnings.push({ msg, fields });
    racingTheMark(h, () => undefined);
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    expect(sent.delivery).toBe('Sent');
    expect(audits(h, 'invitation.emailed')).toEqual([expect.objectContaining({ outcome: 'success', detail: { delivery: 'Sent' } })]);
    expect(warnings).toEqual([]);
  });

  it('a failed email leaves the record as committed (no second write): a staff edit made with the answer\'s version goes through', async () => {
    const h = harness();
    await h.seed('P-1');
    h.mail.fail(true);
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    expect(sent.delivery).toBe('Failed');
    const stored = h.record('P-1')!;
    expect(stored.invite.delivery).toBe('Failed');
    expect(stored.version).toBe(sent.record.version);
    expect(h.mem.docs.get('patient:P-1')!.version).toBe(2);
    expect(audits(h, 'invitation.emailed')).toEqual([expect.objectContaining({ outcome: 'failure', detail: { delivery: 'Failed' } })]);
  });
});

describe('the warnings name the error, or "unknown" for a thrown non-Error (never the address)', () => {
  it('the email and the mark each failing with a thrown string', async () => {
    const h = harness();
    await h.seed('P-1');
    const warnings: unknown[] = [];
    h.deps.warn = (msg, fields) => void warnings.push({ msg, fields });
    h.deps.mailer = {
      async send() {
        throw 'refused';
      },
    };
    h.deps.store = {
      ...h.mem.store,
      async appendAudit() {
        throw 'audit down';
      },
    };
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    expect(sent.delivery).toBe('Failed');
    expect(warnings).toEqual([
      { msg: 'invitation email failed', fields: { errorName: 'unknown' } },
      { msg: 'invitation delivery not recorded', fields: { errorName: 'unknown' } },
    ]);
  });

  it('without a warn hook a failed mark still answers: the invitation stands', async () => {
    const h = harness();
    await h.seed('P-1');
    h.deps.store = {
      ...h.mem.store,
      async saveRecord() {
        throw Object.assign(new Error('down'), { name: 'InternalServerError' });
      },
    };
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    expect(sent.delivery).toBe('Sent');
    expect(h.record('P-1')!.invite).toMatchObject({ status: 'Pending', delivery: 'Failed' });
  });
});

describe('rule 25: two registrations with one link at once', () => {
  it('the second, while the first holds the lease, is 409 registration-in-progress; the first completes', async () => {
    const h = harness();
    await h.seed('P-1');
    const { pin } = await sendInvitation(h.deps, staff, 'P-1');
    const token = h.tokenFor('p-1@example.test');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const upsert = h.reg.logins.upsert;
    h.reg.logins = {
      ...h.reg.logins,
      async upsert(accountId, password) {
        entered();
        await held;
        return upsert(accountId, password);
      },
    };
    const first = register(h.reg, { token, pin, username: 'pat', password: goodPassword, sourceIp: ip });
    await inside;
    expect(await code(register(h.reg, { token, pin, username: 'pat2', password: goodPassword, sourceIp: ip }))).toBe('conflict:registration-in-progress');
    release();
    expect(await first).toMatchObject({ username: 'pat' });
  });
});
