import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  cancelInvitation,
  hashToken,
  newLinkToken,
  newPin,
  PIN_ALPHABET,
  pinsEqual,
  registrationLink,
  resendInvitation,
  sendInvitation,
  showAccessCode,
} from '../../../lambdas/domain/invitations.ts';
import { checkInvitation, register } from '../../../lambdas/domain/registration.ts';
import { DAY, goodPassword, harness, staff } from './invitation-harness.ts';

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return `${err.kind}:${err.code}`;
    throw err;
  }
};

describe('secrets', () => {
  it('rule 9: link tokens are 256 bits of base64url, never repeated, and stored as their SHA-256', () => {
    const tokens = new Set(Array.from({ length: 1000 }, newLinkToken));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashToken('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('PINs: 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L), all symbols used', () => {
    expect(PIN_ALPHABET).not.toMatch(/[01OIL]/);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const pin = newPin();
      expect(pin).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
      for (const c of pin) seen.add(c);
    }
    expect(seen.size).toBe(PIN_ALPHABET.length);
  });

  it('rule 10: PINs compare without regard to case, spaces or a dash, and a different PIN never matches', () => {
    expect(pinsEqual('K7MX4R', 'k7m-x4r')).toBe(true);
    expect(pinsEqual('K7MX4R', ' K7MX 4R ')).toBe(true);
    expect(pinsEqual('K7MX4R', 'K7MX4S')).toBe(false);
    expect(pinsEqual('K7MX4R', 'K7MX4R4')).toBe(false);
    expect(pinsEqual('K7MX4R', '')).toBe(false);
  });

  it('rule 14: the link is built from the configured portal URL', () => {
    expect(registrationLink('https://portal.maple.test/', 'abc_-1')).toBe('https://portal.maple.test/portal/register#token=abc_-1');
  });
});

describe('sending an invitation', () => {
  it('emails the link (never the PIN), answers the PIN once, and marks the record Pending / Invite / Sent', async () => {
    const h = harness();
    await h.seed('P-1');
    const out = await sendInvitation(h.deps, staff, 'P-1');
    expect(out.pin).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    expect(out.delivery).toBe('Sent');
    expect(out.expiresAt).toBe(new Date(Date.parse('2026-11-21T10:00:00.000Z') + 14 * DAY).toISOString());
    expect(out.record.invite).toEqual({ status: 'Pending', sentAt: '2026-11-21T10:00:00.000Z', expiresAt: out.expiresAt, sentBy: 'frontdesk', delivery: 'Sent' });
    expect(out.record.statusMessage).toBe('Enabled / Not Registered / Invite');

    expect(h.mail.sent).toHaveLength(1);
    const [email] = h.mail.sent;
    expect(email!.to).toBe('p-1@example.test');
    const token = h.tokenFor('p-1@example.test');
    expect(email!.text).toContain(`https://portal.maple.test/portal/register#token=${token}`);
    expect(email!.text + email!.html + email!.subject).not.toContain(out.pin);
  });

  it('rules 9 and 10: stores the token only as its hash and the PIN only sealed', async () => {
    const h = harness();
    await h.seed('P-1');
    const { pin } = await sendInvitation(h.deps, staff, 'P-1');
    const token = h.tokenFor('p-1@example.test');
    const state = JSON.stringify([[...h.inv.invitations.values()], [...h.inv.links.values()], [...h.mem.docs.values()], h.mem.audit]);
    expect(state).not.toContain(token);
    expect(state).not.toContain(pin);
    const invitation = h.inv.invitations.get('P-1')!;
    expect(invitation.tokenHash).toBe(hashToken(token));
    expect(h.inv.links.get(hashToken(token))).toMatchObject({ patientId: 'P-1', linkId: invitation.linkId });
    // The seal is bound to its invitation: it does not open as another patient's.
    await expect(h.vault.open(invitation.secrets!.pin!, { patientId: 'P-2', invitationId: invitation.linkId })).rejects.toThrow();
    await expect(h.vault.open(invitation.secrets!.pin!, { patientId: 'P-1', invitationId: invitation.linkId })).resolves.toBe(pin);
  });

  it('rule 12: the invitation lives settings.invitationDays', async () => {
    const h = harness();
    await h.seed('P-1');
    await h.mem.store.saveSettings({ ...(await import('../../../lambdas/domain/settings.ts')).defaultSettings({ practiceName: 'x', portalUrl: 'https://p.test' }), invitationDays: 3 }, 0, {
      target: 'settings', at: '', actor: 'a', action: 'x', outcome: 'success', sourceIp: '', detail: {},
    });
    const out = await sendInvitation(h.deps, staff, 'P-1');
    expect(Date.parse(out.expiresAt) - Date.parse('2026-11-21T10:00:00.000Z')).toBe(3 * DAY);
  });

  it('answers 403 to staff whose invite permission was taken away, 404 without a record, 422 without an email, 409 once registered', async () => {
    const h = harness();
    await h.seed('P-1');
    await h.seed('P-noemail', { cases: [] });
    // The caller's own permissions, from their staff record read with their token (rule 28).
    const barred = { ...staff, staff: { ...staff.staff!, permissions: { canInvite: false, autoInvite: false } } };
    expect(await code(sendInvitation(h.deps, barred, 'P-1'))).toBe('forbidden:forbidden');
    expect(await code(resendInvitation(h.deps, barred, 'P-1'))).toBe('forbidden:forbidden');
    expect(await code(cancelInvitation(h.deps, barred, 'P-1'))).toBe('forbidden:forbidden');
    const other = { ...staff, id: 'nurse' };
    expect(await code(sendInvitation(h.deps, other, 'P-missing'))).toBe('not-found:not-found');
    expect(await code(sendInvitation(h.deps, other, 'P-noemail'))).toBe('unprocessable:no-email');

    const { pin } = await sendInvitation(h.deps, other, 'P-1');
    await register(h.reg, { token: h.tokenFor('p-1@example.test'), pin, username: 'pat.one', password: goodPassword, sourceIp: '198.51.100.1' });
    expect(await code(sendInvitation(h.deps, other, 'P-1'))).toBe('conflict:already-registered');
    expect(await code(resendInvitation(h.deps, other, 'P-1'))).toBe('conflict:already-registered');
  });

  it('rule 24: when SES refuses, the invitation stands with delivery Failed, and a resend delivers it', async () => {
    const h = harness();
    await h.seed('P-1');
    h.mail.fail(true);
    const out = await sendInvitation(h.deps, staff, 'P-1');
    expect(out.delivery).toBe('Failed');
    expect(out.record.invite).toMatchObject({ status: 'Pending', delivery: 'Failed' });
    expect(h.record('P-1')!.invite.delivery).toBe('Failed');
    expect(h.mem.audit.map((a) => [a.action, a.outcome]).slice(-2)).toEqual([
      ['invitation.created', 'success'],
      ['invitation.emailed', 'failure'],
    ]);

    h.mail.fail(false);
    const resent = await resendInvitation(h.deps, staff, 'P-1');
    expect(resent.delivery).toBe('Sent');
    expect(resent.record.invite.delivery).toBe('Sent');
    const code2 = await showAccessCode(h.deps, staff, 'P-1');
    expect(code2.pin).toBe(out.pin);
  });

  it('rule 25: two staff inviting the same patient at once: one succeeds, the other gets 409, one PIN is valid', async () => {
    const h = harness();
    await h.seed('P-1');
    const results = await Promise.allSettled([sendInvitation(h.deps, staff, 'P-1'), sendInvitation(h.deps, { ...staff, id: 'nurse' }, 'P-1')]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({ kind: 'conflict', code: 'invitation-conflict' });
    expect(h.inv.links.size).toBe(1);
    const { pin } = (ok[0] as PromiseFulfilledResult<{ pin: string }>).value;
    expect((await showAccessCode(h.deps, staff, 'P-1')).pin).toBe(pin);
  });

  it('a second invitation while one is pending is 409; once that one has expired, a new one replaces it and the old link and PIN die', async () => {
    const h = harness();
    await h.seed('P-1');
    const first = await sendInvitation(h.deps, staff, 'P-1');
    const firstToken = h.tokenFor('p-1@example.test');
    expect(await code(sendInvitation(h.deps, staff, 'P-1'))).toBe('conflict:invitation-pending');
    h.advance(15 * DAY);
    const second = await sendInvitation(h.deps, staff, 'P-1');
    expect(await code(checkInvitation(h.reg, firstToken, '198.51.100.1'))).toBe('gone:invitation-gone');
    expect((await showAccessCode(h.deps, staff, 'P-1')).pin).toBe(second.pin);
    expect(h.inv.links.size).toBe(1);
    // The first PIN does not open the new link (unless, one time in 887 million, the PINs are the same).
    if (first.pin !== second.pin) {
      const attempt = { token: h.tokenFor('p-1@example.test'), pin: first.pin, username: 'pat', password: goodPassword, sourceIp: '198.51.100.1' };
      expect(await code(register(h.reg, attempt))).toBe('unauthorized:wrong-pin');
    }
  });
});

describe('resend, cancel, access code', () => {
  it('resend: a new link, the old one dead, the same PIN, the expiry renewed', async () => {
    const h = harness();
    await h.seed('P-1');
    const sent = await sendInvitation(h.deps, staff, 'P-1');
    const oldToken = h.tokenFor('p-1@example.test');
    h.advance(2 * DAY);
    const resent = await resendInvitation(h.deps, staff, 'P-1');
    const newToken = h.tokenFor('p-1@example.test');
    expect(newToken).not.toBe(oldToken);
    expect(Date.parse(resent.expiresAt)).toBe(Date.parse(sent.expiresAt) + 2 * DAY);
    expect(await code(checkInvitation(h.reg, oldToken, '198.51.100.1'))).toBe('gone:invitation-gone');
    expect(await code(checkInvitation(h.reg, newToken, '198.51.100.1'))).toBe('ok');
    expect((await showAccessCode(h.deps, staff, 'P-1')).pin).toBe(sent.pin);
    expect(h.mem.audit.some((a) => a.action === 'invitation.resent')).toBe(true);
  });

  it('resend works for an expired invitation and renews it; 404 when nothing was ever sent or it was cancelled', async () => {
    const h = harness();
    await h.seed('P-1');
    await h.seed('P-2');
    expect(await code(resendInvitation(h.deps, staff, 'P-2'))).toBe('not-found:no-pending-invitation');
    await sendInvitation(h.deps, staff, 'P-1');
    h.advance(15 * DAY);
    expect(await code(showAccessCode(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
    const resent = await resendInvitation(h.deps, staff, 'P-1');
    expect(resent.record.invite.status).toBe('Pending');
    await cancelInvitation(h.deps, staff, 'P-1');
    expect(await code(resendInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
  });

  it('cancel: the link and the PIN stop working, the record reads Cancelled / No Invite', async () => {
    const h = harness();
    await h.seed('P-1');
    const { pin } = await sendInvitation(h.deps, staff, 'P-1');
    const token = h.tokenFor('p-1@example.test');
    const record = await cancelInvitation(h.deps, staff, 'P-1');
    expect(record.invite.status).toBe('Cancelled');
    expect(record.statusMessage).toBe('Enabled / Not Registered / No Invite');
    expect(await code(checkInvitation(h.reg, token, '198.51.100.1'))).toBe('gone:invitation-gone');
    expect(await code(register(h.reg, { token, pin, username: 'pat', password: goodPassword, sourceIp: '198.51.100.1' }))).toBe('gone:invitation-gone');
    expect(await code(showAccessCode(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
    expect(h.inv.invitations.get('P-1')!.secrets).toBeUndefined();
    expect(await code(cancelInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
  });

  it('rule 18: the access code shows the pending PIN and audits the view, with no secret in the entry', async () => {
    const h = harness();
    await h.seed('P-1');
    const { pin, expiresAt } = await sendInvitation(h.deps, staff, 'P-1');
    const before = h.mem.audit.length;
    expect(await showAccessCode(h.deps, { ...staff, id: 'nurse' }, 'P-1')).toEqual({ pin, expiresAt });
    const entry = h.mem.audit[before]!;
    expect(entry).toMatchObject({ target: 'patient:P-1', actor: 'nurse', action: 'invitation.pin-viewed', outcome: 'success', sourceIp: staff.sourceIp });
    expect(JSON.stringify(h.mem.audit)).not.toContain(pin);
    expect(await code(showAccessCode(h.deps, staff, 'P-none'))).toBe('not-found:not-found');
  });
});
