/**
 * Staff edits at the edges mutation testing found unguarded (issue 20): who may edit what while the
 * email-match sign-up is on (rule 29), a lost If-Match race (no retry), and a lost email-change
 * notice (rule 29: logged by name only, audited, the change stands).
 */
import { describe, expect, it } from 'vitest';
import { editRecord, newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { Mailer } from '../../../lambdas/domain/invitations.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const staff = { id: 'frontdesk', sourceIp: '203.0.113.7', staff: { sub: 'sub-fd', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } } };
const noInvite = { id: 'temp', sourceIp: '203.0.113.9', staff: { sub: 'sub-temp', roles: ['staff'], permissions: { canInvite: false, autoInvite: false } } };
const rec = (over: Partial<StoredRecord> = {}): StoredRecord => ({ ...newRecord('P-1', now), version: 1, ...over });

function world(mailer?: Mailer) {
  const mem = memoryStore();
  const mail = memoryMailer();
  const warnings: { msg: string; fields: Record<string, string> }[] = [];
  const deps = {
    store: mem.store,
    clock: () => now,
    mailer: mailer ?? mail.mailer,
    settingsDefaults: { practiceName: 'Maple Clinic', portalUrl: 'https://portal.maple.test/' },
    warn: (msg: string, fields: Record<string, string>) => void warnings.push({ msg, fields }),
  };
  const put = (r: StoredRecord) => mem.docs.set(`patient:${r.patientId}`, { value: r, version: r.version });
  const settings = (value: Record<string, unknown>) => mem.docs.set('settings', { value, version: 1 });
  return { mem, mail, deps, put, settings, warnings, stored: () => mem.docs.get('patient:P-1')?.value as StoredRecord | undefined };
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => `${(e as { kind?: string }).kind}/${(e as { code?: string }).code}`);

describe('rule 29: email-match on, staff without invite permission', () => {
  it('may still edit the other fields of a record that has an email (only setting the email is an invitation in all but name)', async () => {
    const w = world();
    w.settings({ emailMatch: true });
    w.put(rec({ email: 'pat@example.test' }));
    expect(await codeOf(editRecord(w.deps, noInvite, 'P-1', { phone: '+15555550100', comment: 'called' }, undefined))).toBe('no error');
    expect(w.stored()).toMatchObject({ email: 'pat@example.test', phone: '+15555550100', comment: 'called', version: 2 });
    // The hostile case beside it: the same caller naming a new address is refused, nothing written.
    expect(await codeOf(editRecord(w.deps, noInvite, 'P-1', { email: 'mine@example.test' }, undefined))).toBe('forbidden/forbidden');
    expect(w.stored()).toMatchObject({ email: 'pat@example.test', version: 2 });
  });
});

describe('If-Match: a lost race is the caller\'s 409 at once', () => {
  it('a concurrent writer between the read and the save: 409, the record read once (no retry on top of the other write), the other write kept', async () => {
    const w = world();
    w.put(rec({ comment: 'first' }));
    let reads = 0;
    const getRecord = w.mem.store.getRecord.bind(w.mem.store);
    const store = { ...w.mem.store, getRecord: async (id: string) => (reads++, getRecord(id)) };
    w.mem.onBeforeSave(() => {
      w.mem.onBeforeSave(undefined);
      w.put(rec({ comment: 'other staff', version: 2 }));
    });
    expect(await codeOf(editRecord({ ...w.deps, store }, staff, 'P-1', { comment: 'mine' }, 1))).toBe('conflict/version-conflict');
    expect(reads).toBe(1);
    expect(w.stored()).toMatchObject({ comment: 'other staff', version: 2 });
  });
});

describe('rule 29: the old address\'s notice of an email change', () => {
  it('is mailed to the old address after the change', async () => {
    const w = world();
    w.put(rec({ email: 'old@example.test', accountId: 'acc-1', username: 'pat' }));
    await editRecord(w.deps, staff, 'P-1', { email: 'new@example.test' }, undefined);
    expect(w.mail.sent.map((m) => m.to)).toEqual(['old@example.test']);
    expect(w.warnings).toEqual([]);
  });

  it('lost (SES refused): warned by the error\'s name only, audited as a failure; the change stands', async () => {
    const w = world();
    w.mail.fail(true);
    w.put(rec({ email: 'old@example.test', accountId: 'acc-1', username: 'pat' }));
    const out = await editRecord(w.deps, staff, 'P-1', { email: 'new@example.test' }, undefined);
    expect(out.record.email).toBe('new@example.test');
    expect(w.stored()?.email).toBe('new@example.test');
    expect(w.warnings).toEqual([{ msg: 'email-changed notice failed', fields: { errorName: 'MessageRejected' } }]);
    expect(JSON.stringify(w.warnings)).not.toContain('example.test');
    expect(w.mem.audit.map((a) => [a.action, a.outcome, a.target])).toEqual([
      ['portal-record.updated', 'success', 'patient:P-1'],
      ['portal-record.email-notice-failed', 'failure', 'patient:P-1'],
    ]);
  });

  it('lost with something that is not an Error: warned as "unknown"', async () => {
    const w = world({ send: async () => Promise.reject('no') });
    w.put(rec({ email: 'old@example.test', accountId: 'acc-1', username: 'pat' }));
    await editRecord(w.deps, staff, 'P-1', { email: 'new@example.test' }, undefined);
    expect(w.warnings).toEqual([{ msg: 'email-changed notice failed', fields: { errorName: 'unknown' } }]);
  });
});
