import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { applyChange, editRecord, newRecord, present, readRecord } from '../../../lambdas/domain/portal-record.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { fixedClock, memoryStore } from '../../support/memory-store.ts';

const actor = { id: 'frontdesk', sourceIp: '203.0.113.9' };
const now = new Date('2026-11-21T10:00:00.000Z');
const noMail = { mailer: memoryMailer().mailer, settingsDefaults: { practiceName: 'Test Practice', portalUrl: 'https://portal.example.test' } };

describe('status message', () => {
  it('reads "Enabled / Not Registered / No Invite" for a new record', () => {
    expect(present(newRecord('P-1', now), now).statusMessage).toBe('Enabled / Not Registered / No Invite');
  });

  it('follows access, registration and invitation in that order', () => {
    const record = { ...newRecord('P-1', now), accessEnabled: false, registration: 'NormalRegistration' as const, invite: { status: 'Accepted' as const } };
    const shown = present(record, now);
    expect(shown.statusMessage).toBe('Disabled / Normal Registration / Invite');
    expect(shown.status).toEqual({ access: 'Disabled', registration: 'Normal Registration', invite: 'Invite' });
  });

  it('shows a pending invitation past its expiry as Expired, and a cancelled one as No Invite', () => {
    const pending = { ...newRecord('P-1', now), invite: { status: 'Pending' as const, expiresAt: '2026-11-21T09:59:59.000Z' } };
    expect(present(pending, now).invite.status).toBe('Expired');
    expect(present(pending, new Date('2026-11-20T00:00:00Z')).invite.status).toBe('Pending');
    const cancelled = { ...newRecord('P-1', now), invite: { status: 'Cancelled' as const } };
    expect(present(cancelled, now).status.invite).toBe('No Invite');
  });
});

describe('applyChange', () => {
  it('reports only fields whose value really changed and bumps the version once', () => {
    const current = { ...newRecord('P-1', now), version: 4, email: 'a@example.test', cases: ['C1'] };
    const { next, changed } = applyChange(current, { email: 'a@example.test', cases: ['C1', 'C2'], phone: '+15551234567' }, now);
    expect(changed.sort()).toEqual(['cases', 'phone']);
    expect(next.version).toBe(5);
  });

  it('clears an optional field given null, and de-duplicates cases', () => {
    const current = { ...newRecord('P-1', now), version: 1, comment: 'call first' };
    const { next, changed } = applyChange(current, { comment: null, cases: ['A', 'A', 'B'] }, now);
    expect(next).not.toHaveProperty('comment');
    expect(next.cases).toEqual(['A', 'B']);
    expect(changed.sort()).toEqual(['cases', 'comment']);
  });

  it('changes nothing for an edit equal to the record', () => {
    const current = { ...newRecord('P-1', now), version: 3, accessEnabled: true };
    const { next, changed } = applyChange(current, { accessEnabled: true }, now);
    expect(changed).toEqual([]);
    expect(next.version).toBe(3);
  });
});

describe('editRecord', () => {
  it('creates the record at version 1 with an audit entry naming the fields, not their values', async () => {
    const mem = memoryStore();
    const { record, created } = await editRecord({ store: mem.store, clock: fixedClock(), ...noMail }, actor, 'P-1', { email: 'pat@example.test' }, undefined);
    expect(created).toBe(true);
    expect(record.version).toBe(1);
    expect(mem.audit).toHaveLength(1);
    expect(mem.audit[0]).toMatchObject({ target: 'patient:P-1', actor: 'frontdesk', action: 'portal-record.created', outcome: 'success', sourceIp: '203.0.113.9', detail: { fields: ['email'] } });
    expect(JSON.stringify(mem.audit)).not.toContain('pat@example.test');
  });

  it('refuses a stale If-Match with version-conflict and writes nothing', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, clock: fixedClock(), ...noMail };
    await editRecord(deps, actor, 'P-1', { email: 'a@example.test' }, undefined);
    await editRecord(deps, actor, 'P-1', { phone: '+15550000000' }, 1);
    const stale = editRecord(deps, actor, 'P-1', { comment: 'x' }, 1);
    await expect(stale).rejects.toMatchObject({ kind: 'conflict', code: 'version-conflict' });
    expect((await readRecord(deps, 'P-1')).version).toBe(2);
    expect(mem.audit).toHaveLength(2);
  });

  it('without If-Match, re-applies the edit on top of a concurrent writer instead of losing either', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, clock: fixedClock(), ...noMail };
    await editRecord(deps, actor, 'P-1', { email: 'a@example.test' }, undefined);
    let raced = false;
    mem.onBeforeSave(() => {
      if (raced) return;
      raced = true;
      const doc = mem.docs.get('patient:P-1')!;
      mem.docs.set('patient:P-1', { value: { ...(doc.value as object), phone: '+15550000001', version: doc.version + 1 }, version: doc.version + 1 });
    });
    const { record } = await editRecord(deps, actor, 'P-1', { comment: 'late' }, undefined);
    expect(record).toMatchObject({ phone: '+15550000001', comment: 'late', version: 3 });
  });

  it('with If-Match, a lost race is a conflict, not a silent retry', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, clock: fixedClock(), ...noMail };
    await editRecord(deps, actor, 'P-1', {}, undefined);
    mem.onBeforeSave(() => {
      const doc = mem.docs.get('patient:P-1')!;
      mem.docs.set('patient:P-1', { ...doc, version: doc.version + 1 });
    });
    await expect(editRecord(deps, actor, 'P-1', { comment: 'x' }, 1)).rejects.toBeInstanceOf(DomainError);
  });

  it('an edit that changes nothing neither writes nor audits', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, clock: fixedClock(), ...noMail };
    await editRecord(deps, actor, 'P-1', { accessEnabled: true }, undefined);
    const { record } = await editRecord(deps, actor, 'P-1', { accessEnabled: true }, undefined);
    expect(record.version).toBe(1);
    expect(mem.audit).toHaveLength(1);
  });

  it('reading a record that does not exist is not-found', async () => {
    await expect(readRecord({ store: memoryStore().store, clock: fixedClock() }, 'P-404')).rejects.toMatchObject({ kind: 'not-found' });
  });
});

describe('internal state', () => {
  it('is never part of the record staff see', () => {
    const record = { ...newRecord('P-1', now), revokedAt: now.toISOString(), login: { mustChangePassword: true, temporaryPasswordExpiresAt: now.toISOString() } };
    const shown = present(record, now);
    expect(shown).not.toHaveProperty('revokedAt');
    expect(shown).not.toHaveProperty('login');
  });
});

describe('turning access off', () => {
  it('stamps revokedAt, so sessions from before stay dead after access is turned back on', () => {
    const current = { ...newRecord('P-1', now), version: 1 };
    const { next } = applyChange(current, { accessEnabled: false }, now);
    expect(next.revokedAt).toBe('2026-11-21T10:00:00.000Z');
    const { next: reenabled } = applyChange(next, { accessEnabled: true }, now);
    expect(reenabled.revokedAt).toBe(next.revokedAt);
  });
});
