/**
 * Security rule 29 in the domain (issue 13 items 3 and 6): who may change a registered record's
 * email, what an email change and access off do to the record's links, and the notice to the old
 * address. The same links over HTTP, for all three kinds: test/integration/rule-29-links.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { sendInvitation, showAccessCode, resendInvitation } from '../../../lambdas/domain/invitations.ts';
import { applyChange, editRecord, linkGenerationOf, newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { checkInvitation, register } from '../../../lambdas/domain/registration.ts';
import { emailChangedEmail } from '../../../lambdas/mail/templates.ts';
import { goodPassword, harness, staff } from './invitation-harness.ts';
import { emailMatchHarness } from './email-match-harness.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
/** A signed-in caller as the token check leaves it: their own record's permissions and roles (rule 28). */
const caller = (id: string, canInvite: boolean, roles: string[] = ['staff']) => ({
  id,
  sourceIp: '203.0.113.9',
  staff: { sub: `sub-${id}`, roles, permissions: { canInvite, autoInvite: false } },
});

/** P-1 with a login, as registration leaves it. */
async function registeredHarness() {
  const h = harness();
  await h.seed('P-1');
  const doc = h.mem.docs.get('patient:P-1')!;
  const value = { ...(doc.value as StoredRecord), accountId: 'acc-1', username: 'pat.one', registration: 'NormalRegistration' as const, invite: { status: 'Accepted' as const } };
  h.mem.docs.set('patient:P-1', { value, version: doc.version });
  return h;
}

describe('rule 29: the link generation', () => {
  const base = (over: Partial<StoredRecord> = {}): StoredRecord => ({ ...newRecord('P-1', now), email: 'a@example.test', version: 3, ...over });

  it('rule 29: an email change and access off bump it; a pending or locked invitation reads Cancelled', () => {
    for (const change of [{ email: 'b@example.test' }, { email: null }, { accessEnabled: false }]) {
      for (const status of ['Pending', 'Locked'] as const) {
        const { next } = applyChange(base({ linkGeneration: 4, invite: { status } }), change, now);
        expect(linkGenerationOf(next)).toBe(5);
        expect(next.invite.status).toBe('Cancelled');
      }
    }
  });

  it('rule 29: access on, the same email again, and unrelated fields leave it (and the invitation) alone', () => {
    const changes = [{ accessEnabled: true }, { email: 'a@example.test' }, { comment: 'x', cases: ['C-9'] }, { phone: '+15550000000', masterCase: 'M-1' }];
    for (const change of changes) {
      const { next } = applyChange(base({ invite: { status: 'Pending' } }), change, now);
      expect(linkGenerationOf(next)).toBe(0);
      expect(next.invite.status).toBe('Pending');
    }
    // Access on again after off: the generation does not go back.
    const off = applyChange(base({ linkGeneration: 2 }), { accessEnabled: false }, now).next;
    expect(linkGenerationOf(applyChange(off, { accessEnabled: true }, now).next)).toBe(3);
  });

  it('is never shown to staff', async () => {
    const h = harness();
    await h.seed('P-1');
    const before = linkGenerationOf(h.record('P-1')!);
    const { record } = await editRecord(h.deps, staff, 'P-1', { email: 'new@example.test' }, undefined);
    expect(record).not.toHaveProperty('linkGeneration');
    expect(h.record('P-1')?.linkGeneration).toBe(before + 1);
  });
});

describe('rule 29: an invitation after an email change or access off', () => {
  for (const [name, changes] of [
    ['the email changed', [{ email: 'elsewhere@example.test' }]],
    ['access off', [{ accessEnabled: false }]],
    ['access off, then on', [{ accessEnabled: false }, { accessEnabled: true }]],
  ] as const) {
    it(`rule 29: after ${name}, link lookup, registration with the right PIN, the PIN view and a resend are all refused`, async () => {
      const h = harness();
      await h.seed('P-1');
      const { pin } = await sendInvitation(h.deps, staff, 'P-1');
      const token = h.tokenFor('p-1@example.test');
      for (const change of changes) await editRecord(h.deps, staff, 'P-1', change, undefined);
      await expect(checkInvitation(h.reg, token, '198.51.100.1')).rejects.toMatchObject({ code: 'invitation-gone' });
      await expect(register(h.reg, { token, pin, username: 'pat.one', password: goodPassword, sourceIp: '198.51.100.1' })).rejects.toMatchObject({ code: 'invitation-gone' });
      await expect(showAccessCode(h.deps, staff, 'P-1')).rejects.toMatchObject({ code: 'no-pending-invitation' });
      await expect(resendInvitation(h.deps, staff, 'P-1')).rejects.toMatchObject({ code: 'no-pending-invitation' });
      expect(h.pool.users.size).toBe(0);
    });
  }

  it('rule 29: a change that lands between the lookup and the commit still kills the registration (410, no login kept)', async () => {
    const h = harness();
    await h.seed('P-1');
    const { pin } = await sendInvitation(h.deps, staff, 'P-1');
    const token = h.tokenFor('p-1@example.test');
    // Bump the generation behind the registration's back, after its lookup, keeping the invite Pending.
    const upsert = h.reg.logins.upsert;
    h.reg.logins.upsert = async (accountId, password) => {
      const doc = h.mem.docs.get('patient:P-1')!;
      const value = doc.value as StoredRecord;
      h.mem.docs.set('patient:P-1', { value: { ...value, linkGeneration: 7, version: doc.version + 1 }, version: doc.version + 1 });
      return upsert(accountId, password);
    };
    await expect(register(h.reg, { token, pin, username: 'pat.one', password: goodPassword, sourceIp: '198.51.100.1' })).rejects.toMatchObject({ code: 'invitation-gone' });
    expect(h.record('P-1')?.accountId).toBeUndefined();
  });

  it('an unrelated change keeps the invitation working', async () => {
    const h = harness();
    await h.seed('P-1');
    const { pin } = await sendInvitation(h.deps, staff, 'P-1');
    const token = h.tokenFor('p-1@example.test');
    await editRecord(h.deps, staff, 'P-1', { comment: 'called', cases: ['C-1', 'C-2'] }, undefined);
    await expect(register(h.reg, { token, pin, username: 'pat.one', password: goodPassword, sourceIp: '198.51.100.1' })).resolves.toMatchObject({ username: 'pat.one' });
  });
});

describe("rule 29: changing a registered record's email", () => {
  it('rule 29: staff without invite permission get 403 in words; nothing is written, nothing sent', async () => {
    const h = await registeredHarness();
    const clerk = caller('temp.clerk', false);
    const before = h.mem.audit.length;
    await expect(editRecord(h.deps, clerk, 'P-1', { email: 'attacker@example.test' }, undefined)).rejects.toMatchObject({
      kind: 'forbidden',
      message: expect.stringMatching(/invite/),
    });
    await expect(editRecord(h.deps, clerk, 'P-1', { email: null }, undefined)).rejects.toMatchObject({ kind: 'forbidden' });
    expect(h.record('P-1')?.email).toBe('p-1@example.test');
    expect(h.mem.audit.length).toBe(before);
    expect(h.mail.sent).toHaveLength(0);
    // The same staff user may still edit everything else, and the email of a record without a login.
    await editRecord(h.deps, clerk, 'P-1', { comment: 'asked for help', phone: '+15550000001' }, undefined);
    await h.seed('P-2');
    await editRecord(h.deps, clerk, 'P-2', { email: 'fixed-typo@example.test' }, undefined);
  });

  it('rule 29: with the email-match method on, staff without invite permission cannot set any record\'s email (it would be a login for whoever reads that mailbox)', async () => {
    const h = emailMatchHarness();
    await h.seed('P-3');
    const clerk = caller('temp.clerk', false);
    await editRecord(h.deps, clerk, 'P-3', { email: 'typo-fixed@example.test' }, undefined); // method off: allowed
    await h.settings({ emailMatch: true });
    await expect(editRecord(h.deps, clerk, 'P-3', { email: 'clerk.own@example.test' }, undefined)).rejects.toMatchObject({ kind: 'forbidden' });
    expect(h.record('P-3')?.email).toBe('typo-fixed@example.test');
    await editRecord(h.deps, clerk, 'P-3', { email: null }, undefined); // removing an address gives no one a login
    await editRecord(h.deps, staff, 'P-3', { email: 'patient@example.test' }, undefined); // with invite permission: allowed
    expect(h.record('P-3')?.email).toBe('patient@example.test');
  });

  it('rule 29: staff with invite permission, and an admin even without it, may change it', async () => {
    const h = await registeredHarness();
    await editRecord(h.deps, staff, 'P-1', { email: 'second@example.test' }, undefined);
    await editRecord(h.deps, caller('boss', false, ['admin']), 'P-1', { email: 'third@example.test' }, undefined);
    expect(h.record('P-1')?.email).toBe('third@example.test');
  });

  it('rule 29: the old address is told, with no secret, no link and not the new address; audited without values', async () => {
    const h = await registeredHarness();
    await editRecord(h.deps, staff, 'P-1', { email: 'second@example.test' }, undefined);
    expect(h.mail.sent.map((m) => m.to)).toEqual(['p-1@example.test']);
    const notice = h.mail.sent[0]!;
    expect(notice.subject).toMatch(/email address/);
    expect(notice.text + notice.html).not.toMatch(/token|https?:|second@example/);
    const updated = h.mem.audit.at(-1)!;
    expect(updated).toMatchObject({ action: 'portal-record.updated', detail: { fields: ['email'], linksKilled: true } });
    expect(JSON.stringify(updated)).not.toContain('example.test');
  });

  it('a notice that cannot be sent leaves the change in place and an audit entry', async () => {
    const h = await registeredHarness();
    h.mail.fail(true);
    const { record } = await editRecord(h.deps, staff, 'P-1', { email: 'second@example.test' }, undefined);
    expect(record.email).toBe('second@example.test');
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'portal-record.email-notice-failed', outcome: 'failure' });
  });
});

describe('the email-changed notice', () => {
  it('escapes the practice name in the HTML and carries no link', () => {
    const mail = emailChangedEmail({ practiceName: 'Maple & Oak <Clinic>', at: now.toISOString() });
    expect(mail.html).toContain('Maple &amp; Oak &lt;Clinic&gt;');
    expect(mail.html).not.toContain('<Clinic>');
    expect(mail.html).not.toMatch(/<a /);
    expect(mail.text).toContain('21 November 2026');
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });
});
