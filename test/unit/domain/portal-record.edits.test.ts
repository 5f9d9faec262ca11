/**
 * Staff edits at their edges (rules 17, 28, 29), through the exported functions: what is stored,
 * what staff are shown, what is mailed and audited.
 */
import { describe, expect, it } from 'vitest';
import { applyChange, editRecord, newRecord, present, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const staff = { id: 'frontdesk', sourceIp: '203.0.113.7', staff: { sub: 'sub-fd', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } } };
const noInvite = { id: 'temp', sourceIp: '203.0.113.9', staff: { sub: 'sub-temp', roles: ['staff'], permissions: { canInvite: false, autoInvite: false } } };
const rec = (over: Partial<StoredRecord> = {}): StoredRecord => ({ ...newRecord('P-1', now), version: 1, ...over });

function world() {
  const mem = memoryStore();
  const mail = memoryMailer();
  const deps = { store: mem.store, clock: () => now, mailer: mail.mailer, settingsDefaults: { practiceName: 'Maple Clinic', portalUrl: 'https://portal.maple.test/' } };
  const put = (r: StoredRecord) => mem.docs.set(`patient:${r.patientId}`, { value: r, version: r.version });
  return { mem, mail, deps, put, stored: () => mem.docs.get('patient:P-1')?.value as StoredRecord | undefined };
}

describe('a new record and what staff see', () => {
  it('starts with no cases', () => {
    expect(newRecord('P-1', now).cases).toEqual([]);
  });

  it('a pending invitation reads Expired from the very ms of its expiry; without an expiry, or not pending, as it is', () => {
    expect(present(rec({ invite: { status: 'Pending', expiresAt: now.toISOString() } }), now).invite.status).toBe('Expired');
    expect(present(rec({ invite: { status: 'Pending', expiresAt: '2026-11-21T10:00:00.001Z' } }), now).invite.status).toBe('Pending');
    expect(present(rec({ invite: { status: 'Pending' } }), now).invite.status).toBe('Pending');
    expect(present(rec({ invite: { status: 'Locked', expiresAt: '2026-11-20T00:00:00.000Z' } }), now).invite.status).toBe('Locked');
  });
});

describe('applyChange stores what staff typed', () => {
  it('an email is stored as typed (only cases are de-duplicated)', () => {
    const { next } = applyChange(rec(), { email: 'new@example.test', cases: ['C-1', 'C-1'] }, now);
    expect(next.email).toBe('new@example.test');
    expect(next.cases).toEqual(['C-1']);
  });

  it('rule 29: only a new email forgets the old address\'s delivery events; a comment keeps them', () => {
    const withDelivery = rec({ email: 'a@example.test', emailDelivery: { status: 'Bounced' } as unknown as StoredRecord['emailDelivery'] });
    expect(applyChange(withDelivery, { comment: 'called' }, now).next.emailDelivery).toEqual({ status: 'Bounced' });
    expect(applyChange(withDelivery, { email: 'b@example.test' }, now).next).not.toHaveProperty('emailDelivery');
  });
});

describe('editRecord', () => {
  it('creates with If-Match 0 (it must not exist yet); a no-op edit of an existing record says not created', async () => {
    const w = world();
    const made = await editRecord(w.deps, staff, 'P-1', { comment: 'new' }, 0);
    expect(made.created).toBe(true);
    const again = await editRecord(w.deps, staff, 'P-1', { comment: 'new' }, undefined);
    expect(again.created).toBe(false);
  });

  it('rule 29: changing the email of a record without a login mails no notice and audits no failed one', async () => {
    const w = world();
    w.put(rec({ email: 'old@example.test' }));
    await editRecord(w.deps, staff, 'P-1', { email: 'new@example.test' }, undefined);
    expect(w.mail.sent).toEqual([]);
    expect(w.mem.audit.map((a) => a.action)).toEqual(['portal-record.updated']);
  });

  it('rule 29: the refusal of a login\'s email change to staff without invite permission is 403 forbidden', async () => {
    const w = world();
    w.put(rec({ email: 'old@example.test', accountId: 'acc-1', username: 'pat' }));
    const err = await editRecord(w.deps, noInvite, 'P-1', { email: 'new@example.test' }, undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'forbidden', code: 'forbidden' });
    expect(w.stored()!.email).toBe('old@example.test');
  });

  it('rule 29: with email-match off, staff without invite permission may set the email of a record without a login', async () => {
    const w = world();
    w.put(rec({ email: 'old@example.test' }));
    await editRecord(w.deps, noInvite, 'P-1', { email: 'new@example.test' }, undefined);
    expect(w.stored()!.email).toBe('new@example.test');
  });
});
