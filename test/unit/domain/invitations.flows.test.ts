/**
 * Mutation-testing rules for lambdas/domain/invitations.ts (issue 20), through the staff
 * operations on the invitation harness: what each refusal answers, what a resend keeps and resets
 * (rules 7, 10, 29), what cancel and the PIN view leave behind (rules 18, 24), and the delivery
 * mark (an SES event that got there first is never overwritten). Outcomes only (answers, stored
 * state, audit trail, emails), never the backend calls made (they are being batched).
 */
import { describe, expect, it } from 'vitest';
import { DomainError, versionConflict } from '../../../lambdas/domain/errors.ts';
import {
  cancelInvitation,
  invitationConflict,
  isLive,
  registrationLink,
  resendInvitation,
  sendInvitation,
  showAccessCode,
} from '../../../lambdas/domain/invitations.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { checkInvitation, register } from '../../../lambdas/domain/registration.ts';
import { outage } from '../../support/memory-invitations.ts';
import { DAY, goodPassword, harness, staff, code } from './invitation-harness.ts';

const ip = '198.51.100.1';

async function invited(h = harness()) {
  await h.seed('P-1');
  const sent = await sendInvitation(h.deps, staff, 'P-1');
  return { h, sent, token: h.tokenFor('p-1@example.test') };
}
const edit = (h: ReturnType<typeof harness>, change: Partial<StoredRecord>) => {
  const doc = h.mem.docs.get('patient:P-1')!;
  doc.value = { ...(doc.value as StoredRecord), ...change };
};
const audits = (h: ReturnType<typeof harness>, action: string) => h.mem.audit.filter((a) => a.action === action);
const wrongPin = (pin: string) => (pin.startsWith('A') ? `B${pin.slice(1)}` : `A${pin.slice(1)}`);

describe('sending', () => {
  it('the record shows who sent it, when, until when, delivery Sent once SES took it; audited with what it replaced and the days', async () => {
    const { h, sent } = await invited();
    expect(h.record('P-1')!.invite).toEqual({ status: 'Pending', sentAt: '2026-11-21T10:00:00.000Z', expiresAt: sent.expiresAt, sentBy: 'frontdesk', delivery: 'Sent' });
    expect(sent.expiresAt).toBe('2026-12-05T10:00:00.000Z');
    expect(sent.record.updatedAt).toBe('2026-11-21T10:00:00.000Z');
    expect(audits(h, 'invitation.created')).toEqual([expect.objectContaining({ actor: 'frontdesk', outcome: 'success', detail: { replaced: 'None', days: 14 } })]);
    expect(audits(h, 'invitation.emailed')).toEqual([expect.objectContaining({ outcome: 'success', detail: { delivery: 'Sent' } })]);
    expect(h.mail.sent).toHaveLength(1);
    expect(h.mail.sent[0]!.to).toBe('p-1@example.test');
    expect(h.mail.sent[0]!.text).toContain('https://portal.maple.test/portal/register#token=');
  });

  it('an auto-invite detail goes into the audit entry beside what was replaced', async () => {
    const h = harness();
    await h.seed('P-1');
    await sendInvitation(h.deps, staff, 'P-1', { trigger: 'email-added' });
    expect(audits(h, 'invitation.created')[0]!.detail).toEqual({ trigger: 'email-added', replaced: 'None', days: 14 });
  });

  it('audits what it replaced by the old names: a cancelled one Cancelled, a locked one Locked', async () => {
    const { h } = await invited();
    await cancelInvitation(h.deps, staff, 'P-1');
    await sendInvitation(h.deps, staff, 'P-1');
    const second = h.tokenFor('p-1@example.test');
    const pin = (await showAccessCode(h.deps, staff, 'P-1')).pin;
    for (let i = 0; i < 5; i++) await code(register(h.reg, { token: second, pin: wrongPin(pin), username: 'pat', password: goodPassword, sourceIp: ip }));
    await sendInvitation(h.deps, staff, 'P-1');
    expect(audits(h, 'invitation.created').map((a) => a.detail?.replaced)).toEqual(['None', 'Cancelled', 'Locked']);
  });

  it('refusals: access disabled is 409 access-disabled; a patient with a login 409 already-registered; nothing sent', async () => {
    const h = harness();
    await h.seed('P-1');
    edit(h, { accessEnabled: false });
    expect(await code(sendInvitation(h.deps, staff, 'P-1'))).toBe('conflict:access-disabled');
    edit(h, { accessEnabled: true, accountId: 'acc-1' });
    expect(await code(sendInvitation(h.deps, staff, 'P-1'))).toBe('conflict:already-registered');
    expect(h.mail.sent).toHaveLength(0);
    expect(h.inv.invitations.size).toBe(0);
  });

  it('a locked invitation is not pending: a new one may be sent at once', async () => {
    const { h, token, sent } = await invited();
    for (let i = 0; i < 5; i++) await code(register(h.reg, { token, pin: wrongPin(sent.pin), username: 'pat', password: goodPassword, sourceIp: ip }));
    expect(h.record('P-1')!.invite.status).toBe('Locked');
    expect(await code(sendInvitation(h.deps, staff, 'P-1'))).toBe('ok');
  });

  it('an unrelated edit racing the send is read again and the send succeeds', async () => {
    const h = harness();
    await h.seed('P-1');
    const write = h.deps.invitations.write;
    let raced = false;
    h.deps.invitations = {
      ...h.deps.invitations,
      write: async (change) => {
        if (!raced) {
          raced = true;
          throw versionConflict();
        }
        return write(change);
      },
    };
    expect(await code(sendInvitation(h.deps, staff, 'P-1'))).toBe('ok');
  });

  it('rule 24: the delivery mark that cannot be written leaves the answer and the email; logged by name', async () => {
    const h = harness();
    await h.seed('P-1');
    const warnings: unknown[] = [];
    h.deps.warn = (msg, fields) => void warnings.push({ msg, fields });
    const save = h.deps.store.saveRecord;
    h.deps.store = { ...h.deps.store, saveRecord: async () => Promise.reject(outage('InternalServerError')) };
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    expect(sent.delivery).toBe('Sent');
    expect(sent.record.invite.delivery).toBe('Failed');
    expect(h.mail.sent).toHaveLength(1);
    expect(warnings).toEqual([{ msg: 'invitation delivery not recorded', fields: { errorName: 'InternalServerError' } }]);
    h.deps.store = { ...h.deps.store, saveRecord: save };
  });

  it('rule 24: an SES refusal is logged by name, and the record reads Failed; audited as a failure', async () => {
    const h = harness();
    await h.seed('P-1');
    const warnings: unknown[] = [];
    h.deps.warn = (msg, fields) => void warnings.push({ msg, fields });
    h.mail.fail(true);
    expect((await sendInvitation(h.deps, staff, 'P-1')).delivery).toBe('Failed');
    expect(warnings).toEqual([{ msg: 'invitation email failed', fields: { errorName: 'MessageRejected' } }]);
    expect(audits(h, 'invitation.emailed')).toEqual([expect.objectContaining({ outcome: 'failure', detail: { delivery: 'Failed' } })]);
  });

  it('an SES event that arrived before our "Sent" mark is kept (newer news)', async () => {
    const h = harness();
    await h.seed('P-1');
    const send = h.mail.mailer.send;
    h.deps.mailer = {
      async send(email) {
        await send(email);
        const doc = h.mem.docs.get('patient:P-1')!;
        const r = doc.value as StoredRecord;
        h.mem.docs.set('patient:P-1', { value: { ...r, invite: { ...r.invite, delivery: 'Delivered', deliveryAt: r.invite.sentAt }, version: doc.version + 1 }, version: doc.version + 1 });
      },
    };
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    expect(h.record('P-1')!.invite.delivery).toBe('Delivered');
    expect(sent.record.invite.delivery).toBe('Delivered');
    expect(audits(h, 'invitation.emailed')).toHaveLength(1);
  });

  it('a resend or cancel that got there between the email and the mark keeps its own state', async () => {
    const h = harness();
    await h.seed('P-1');
    const send = h.mail.mailer.send;
    let cancelled = false;
    h.deps.mailer = {
      async send(email) {
        await send(email);
        if (!cancelled) {
          cancelled = true;
          await cancelInvitation(h.deps, staff, 'P-1');
        }
      },
    };
    await sendInvitation(h.deps, staff, 'P-1');
    expect(h.record('P-1')!.invite).toMatchObject({ status: 'Cancelled', delivery: 'Failed' });
    expect(audits(h, 'invitation.emailed')).toHaveLength(1);
  });

  it('rule 14: the registration link is the portal URL without its trailing slashes', () => {
    expect(registrationLink('https://portal.maple.test//', 'a+b')).toBe('https://portal.maple.test/portal/register#token=a%2Bb');
  });
});

describe('the invitation policy', () => {
  it('rule 7: a wrong PIN is audited as registration.wrong-pin, the lock as invitation.locked, and the record reads Locked', async () => {
    const { h, token, sent } = await invited();
    for (let i = 0; i < 5; i++) await code(register(h.reg, { token, pin: wrongPin(sent.pin), username: 'pat', password: goodPassword, sourceIp: ip }));
    expect(audits(h, 'registration.wrong-pin').map((a) => a.detail)).toEqual([1, 2, 3, 4, 5].map((failures) => ({ failures })));
    expect(audits(h, 'invitation.locked')).toHaveLength(1);
    expect(h.record('P-1')!.invite.status).toBe('Locked');
  });

  it('rule 7: a phone code typed instead of the PIN is answered in its own words (wrong-phone-code), the PIN in its own', async () => {
    const { h, token, sent } = await invited();
    expect(await code(register(h.reg, { token, phoneCode: '123456', username: 'pat', password: goodPassword, sourceIp: ip }))).toBe('unauthorized:wrong-phone-code');
    expect(await code(register(h.reg, { token, pin: wrongPin(sent.pin), username: 'pat', password: goodPassword, sourceIp: ip }))).toBe('unauthorized:wrong-pin');
  });

  it('rule 10: a link that lost its sealed PIN refuses every PIN as wrong (nothing to open)', async () => {
    const { h, token, sent } = await invited();
    delete h.inv.invitations.get('P-1')!.secrets;
    expect(await code(register(h.reg, { token, pin: sent.pin, username: 'pat', password: goodPassword, sourceIp: ip }))).toBe('unauthorized:wrong-pin');
  });

  it('rule 10: a sealed PIN opens only for its own invitation (the seal names patient and invitation)', async () => {
    const { h, token, sent } = await invited();
    const other = (await invited(harness())).h;
    // P-1's seal copied into another harness's state for P-1 (another invitation id): it does not open.
    other.inv.invitations.get('P-1')!.secrets = { pin: h.inv.invitations.get('P-1')!.secrets!.pin! };
    await expect(register(other.reg, { token: other.tokenFor('p-1@example.test'), pin: sent.pin, username: 'pat', password: goodPassword, sourceIp: ip })).rejects.toThrow();
    expect(other.pool.users.size).toBe(0);
    expect(other.record('P-1')!.accountId).toBeUndefined();
    expect(await code(register(h.reg, { token, pin: sent.pin, username: 'pat', password: goodPassword, sourceIp: ip }))).toBe('ok');
  });

  it('a new invitation after a used one (the login since removed) is audited as replacing Accepted', async () => {
    const { h, token, sent } = await invited();
    await register(h.reg, { token, pin: sent.pin, username: 'pat', password: goodPassword, sourceIp: ip });
    edit(h, { accountId: undefined });
    await sendInvitation(h.deps, staff, 'P-1');
    expect(audits(h, 'invitation.created').map((a) => a.detail?.replaced)).toEqual(['None', 'Accepted']);
  });

  it('isLive: not for a record with access off or with a login', async () => {
    const { h } = await invited();
    const state = h.inv.invitations.get('P-1')!;
    const record = h.record('P-1')!;
    const now = new Date('2026-11-21T10:00:00.000Z');
    expect(isLive(state, { ...record, accessEnabled: false }, now)).toBe(false);
    expect(isLive(state, { ...record, accountId: 'acc-1' }, now)).toBe(false);
  });
});

describe('resend', () => {
  it('rule 7: a locked invitation comes back with the same PIN, the counter at 0, audited as was-locked', async () => {
    const { h, sent, token } = await invited();
    for (let i = 0; i < 5; i++) await code(register(h.reg, { token, pin: wrongPin(sent.pin), username: 'pat', password: goodPassword, sourceIp: ip }));
    const resent = await resendInvitation(h.deps, staff, 'P-1');
    expect(resent.record.invite.status).toBe('Pending');
    expect(h.inv.invitations.get('P-1')).toMatchObject({ status: 'Pending', failures: 0, tries: 0 });
    expect(audits(h, 'invitation.resent')).toEqual([expect.objectContaining({ actor: 'frontdesk', detail: { wasLocked: true, days: 14 } })]);
    const fresh = h.tokenFor('p-1@example.test');
    expect(await code(register(h.reg, { token: fresh, pin: sent.pin, username: 'pat', password: goodPassword, sourceIp: ip }))).toBe('ok');
  });

  it('a pending one: not was-locked; the same invitation id', async () => {
    const { h } = await invited();
    const before = h.inv.invitations.get('P-1')!.linkId;
    await resendInvitation(h.deps, staff, 'P-1');
    expect(h.inv.invitations.get('P-1')!.linkId).toBe(before);
    expect(audits(h, 'invitation.resent')[0]!.detail).toEqual({ wasLocked: false, days: 14 });
  });

  it('rule 24: a login an unfinished registration fixed is the one the resent link completes', async () => {
    const { h, sent, token } = await invited();
    h.pool.failOnce.add('upsert');
    await expect(register(h.reg, { token, pin: sent.pin, username: 'pat', password: goodPassword, sourceIp: ip })).rejects.toMatchObject({ name: 'InternalErrorException' });
    const fixed = h.inv.invitations.get('P-1')!.accountId;
    expect(fixed).toBeDefined();
    await resendInvitation(h.deps, staff, 'P-1');
    expect(h.inv.invitations.get('P-1')!.accountId).toBe(fixed);
    const done = await register(h.reg, { token: h.tokenFor('p-1@example.test'), pin: sent.pin, username: 'pat', password: goodPassword, sourceIp: ip });
    expect(done.accountId).toBe(fixed);
  });

  it('refused: a patient with a login or a used invitation (409 already-registered); access off (409); no email (422)', async () => {
    const { h } = await invited();
    edit(h, { accessEnabled: false });
    expect(await code(resendInvitation(h.deps, staff, 'P-1'))).toBe('conflict:access-disabled');
    const h2 = (await invited()).h;
    edit(h2, { email: undefined });
    expect(await code(resendInvitation(h2.deps, staff, 'P-1'))).toBe('unprocessable:no-email');
    const h3 = (await invited()).h;
    await register(h3.reg, { token: h3.tokenFor('p-1@example.test'), pin: (await showAccessCode(h3.deps, staff, 'P-1')).pin, username: 'pat', password: goodPassword, sourceIp: ip });
    expect(await code(resendInvitation(h3.deps, staff, 'P-1'))).toBe('conflict:already-registered');
    // The invitation reads Used while the record lost its login (an undone registration): still already-registered.
    edit(h3, { accountId: undefined });
    expect(await code(resendInvitation(h3.deps, staff, 'P-1'))).toBe('conflict:already-registered');
    expect(await code(resendInvitation(h3.deps, staff, 'P-404'))).toBe('not-found:not-found');
  });

  it('404 no-pending when the record says it is not open though the link does, or the link lost its PIN', async () => {
    const { h } = await invited();
    edit(h, { invite: { ...h.record('P-1')!.invite, status: 'Cancelled' } });
    expect(await code(resendInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
    const h2 = (await invited()).h;
    delete h2.inv.invitations.get('P-1')!.secrets;
    expect(await code(resendInvitation(h2.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
  });

  it('rule 29: access off and on again since it was sent: no resend brings its PIN back', async () => {
    const { h } = await invited();
    edit(h, { linkGeneration: (h.record('P-1')!.linkGeneration ?? 0) + 1 });
    expect(await code(resendInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
  });

  it('a concurrent change of the invitation is read again and retried (resend and cancel)', async () => {
    const { h } = await invited();
    const write = h.deps.invitations.write;
    let conflicts = 0;
    h.deps.invitations = {
      ...h.deps.invitations,
      write: async (change) => {
        if (conflicts++ % 2 === 0) throw invitationConflict();
        return write(change);
      },
    };
    expect(await code(resendInvitation(h.deps, staff, 'P-1'))).toBe('ok');
    expect(await code(cancelInvitation(h.deps, staff, 'P-1'))).toBe('ok');
    expect(h.record('P-1')!.invite.status).toBe('Cancelled');
  });

  it('other failures of the write are not retried', async () => {
    const { h } = await invited();
    h.deps.invitations = { ...h.deps.invitations, write: async () => Promise.reject(outage('InternalServerError')) };
    await expect(resendInvitation(h.deps, staff, 'P-1')).rejects.toMatchObject({ name: 'InternalServerError' });
    await expect(cancelInvitation(h.deps, staff, 'P-1')).rejects.toMatchObject({ name: 'InternalServerError' });
  });
});

describe('cancel', () => {
  it('a locked invitation can be cancelled; the record reads Cancelled at that time, audited with what it was', async () => {
    const { h, token, sent } = await invited();
    for (let i = 0; i < 5; i++) await code(register(h.reg, { token, pin: wrongPin(sent.pin), username: 'pat', password: goodPassword, sourceIp: ip }));
    h.advance(1000);
    const record = await cancelInvitation(h.deps, staff, 'P-1');
    expect(record.invite.status).toBe('Cancelled');
    expect(record.updatedAt).toBe('2026-11-21T10:00:01.000Z');
    expect(audits(h, 'invitation.cancelled')).toEqual([expect.objectContaining({ actor: 'frontdesk', detail: { was: 'Locked' } })]);
    expect(h.inv.invitations.get('P-1')!.status).toBe('Cancelled');
  });

  it('a pending one: its pointer is deleted; 404 for a missing record and for a used invitation', async () => {
    const { h } = await invited();
    await cancelInvitation(h.deps, staff, 'P-1');
    expect(h.inv.links.size).toBe(0);
    expect(audits(h, 'invitation.cancelled')[0]!.detail).toEqual({ was: 'Pending' });
    expect(await code(cancelInvitation(h.deps, staff, 'P-404'))).toBe('not-found:not-found');
    const h2 = (await invited()).h;
    await register(h2.reg, { token: h2.tokenFor('p-1@example.test'), pin: (await showAccessCode(h2.deps, staff, 'P-1')).pin, username: 'pat', password: goodPassword, sourceIp: ip });
    expect(await code(cancelInvitation(h2.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
  });

  it('404 when the record no longer reads it open (a revoke) though the link does', async () => {
    const { h } = await invited();
    edit(h, { invite: { ...h.record('P-1')!.invite, status: 'Cancelled' } });
    expect(await code(cancelInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
  });

  it('rule 18: cancel, resend and the PIN view need the invite permission', async () => {
    const { h } = await invited();
    const nurse = { ...staff, staff: { ...staff.staff!, permissions: { canInvite: false, autoInvite: false } } };
    expect(await code(cancelInvitation(h.deps, nurse, 'P-1'))).toBe('forbidden:forbidden');
    expect(await code(resendInvitation(h.deps, nurse, 'P-1'))).toBe('forbidden:forbidden');
    expect(h.record('P-1')!.invite.status).toBe('Pending');
  });
});

describe('the PIN view', () => {
  it('rule 18: a patient with a login has no PIN to show, even if a link still reads pending', async () => {
    const { h } = await invited();
    edit(h, { accountId: 'acc-1' });
    expect(await code(showAccessCode(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
    expect(audits(h, 'invitation.pin-viewed')).toHaveLength(0);
  });

  it('rule 18: a view that cannot be audited is not shown', async () => {
    const { h } = await invited();
    h.deps.store = { ...h.deps.store, appendAudit: async () => Promise.reject(outage('InternalServerError')) };
    await expect(showAccessCode(h.deps, staff, 'P-1')).rejects.toMatchObject({ name: 'InternalServerError' });
  });

  it('isLive: a pending, unexpired link on a record that agrees, with a PIN; without a PIN it is not', async () => {
    const { h } = await invited();
    const state = h.inv.invitations.get('P-1')!;
    const record = h.record('P-1')!;
    const now = new Date('2026-11-21T10:00:00.000Z');
    expect(isLive(state, record, now)).toBe(true);
    expect(isLive({ ...state, secrets: {} }, record, now)).toBe(false);
    expect(isLive(undefined, record, now)).toBe(false);
    expect(isLive(state, { ...record, invite: { ...record.invite, status: 'Cancelled' } }, now)).toBe(false);
    expect(isLive(state, record, new Date(now.getTime() + 14 * DAY))).toBe(false);
  });

  it('rule 11: a link whose record was revoked is dead at look-up', async () => {
    const { h, token } = await invited();
    edit(h, { invite: { ...h.record('P-1')!.invite, status: 'Cancelled' } });
    expect(await code(checkInvitation(h.reg, token, ip))).toBe('gone:invitation-gone');
  });
});
