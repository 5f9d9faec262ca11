import { describe, expect, it } from 'vitest';
import { autoInvite } from '../../../lambdas/domain/auto-invite.ts';
import { sendInvitation } from '../../../lambdas/domain/invitations.ts';
import { register } from '../../../lambdas/domain/registration.ts';
import { emailMatchHarness } from './email-match-harness.ts';
import { goodPassword, staff } from './invitation-harness.ts';

// The signer posts the event signed in as themselves: permissions come with the caller (rule 28).
const integration = {
  id: 'dr.lee',
  sourceIp: '203.0.113.50',
  staff: { sub: 'sub-dr.lee', roles: ['staff'], permissions: { canInvite: true, autoInvite: true } },
};
const noInvite = { id: 'dr.noinv', sourceIp: '203.0.113.50', staff: { sub: 'sub-dr.noinv', roles: ['staff'], permissions: { canInvite: false, autoInvite: true } } };
const event = (patientId = 'P-1', signedBy = 'dr.lee') => ({ patientId, signedBy });

/** Practice setting on, dr.lee allowed to auto-invite, P-1 on file with an email. */
async function ready() {
  const h = emailMatchHarness();
  await h.settings({ autoInvite: true });
  await h.seed('P-1');
  return h;
}

describe('auto-invite on a signed note', () => {
  it('invites through the staff invitation: email with the link, no PIN in the answer, the signer as actor, audited as an auto-invite', async () => {
    const h = await ready();
    const result = await autoInvite(h.deps, integration, event());
    expect(result).toEqual({ invited: true, delivery: 'Sent', expiresAt: expect.any(String) });
    expect(JSON.stringify(result)).not.toMatch(/pin/i);
    expect(h.mail.sent).toHaveLength(1);
    expect(h.mail.sent[0]!.text).toContain('/portal/register?token=');
    expect(h.record('P-1')?.invite).toMatchObject({ status: 'Pending', sentBy: 'dr.lee', delivery: 'Sent' });
    const created = h.mem.audit.find((a) => a.action === 'invitation.created');
    expect(created).toMatchObject({ actor: 'dr.lee', target: 'patient:P-1', detail: { trigger: 'note-signed', calledBy: 'dr.lee' } });
  });

  it('is idempotent: the same event again is invited: false, invitation-pending, and no second email', async () => {
    const h = await ready();
    await autoInvite(h.deps, integration, event());
    expect(await autoInvite(h.deps, integration, event())).toEqual({ invited: false, reason: 'invitation-pending' });
    expect(h.mail.sent).toHaveLength(1);
  });

  it('rule 25: 20 identical events at once invite once', async () => {
    const h = await ready();
    const results = await Promise.all(Array.from({ length: 20 }, () => autoInvite(h.deps, integration, event())));
    expect(results.filter((r) => r.invited)).toHaveLength(1);
    for (const r of results.filter((x) => !x.invited)) expect(r.reason).toBe('invitation-pending');
    expect(h.mail.sent).toHaveLength(1);
  });

  it('gives each reason, and audits each skip on the patient trail', async () => {
    const h = await ready();
    await h.seed('P-NOMAIL', { cases: ['C-1'] });
    await h.seed('P-OFF', { email: 'off@example.test', accessEnabled: false });
    await h.seed('P-REG');
    const { pin } = await sendInvitation(h.deps, staff, 'P-REG');
    await register(h.reg, { token: h.tokenFor('p-reg@example.test'), pin, username: 'pat.reg', password: goodPassword, sourceIp: '198.51.100.1' });

    expect(await autoInvite(h.deps, integration, event('P-1', 'frontdesk'))).toEqual({ invited: false, reason: 'signer-not-enabled' }); // another user named: none of theirs
    expect(await autoInvite(h.deps, noInvite, event('P-1', 'dr.noinv'))).toEqual({ invited: false, reason: 'signer-not-enabled' });
    expect(await autoInvite(h.deps, integration, event('P-NONE'))).toEqual({ invited: false, reason: 'no-record' });
    expect(await autoInvite(h.deps, integration, event('P-NOMAIL'))).toEqual({ invited: false, reason: 'no-email' });
    expect(await autoInvite(h.deps, integration, event('P-OFF'))).toEqual({ invited: false, reason: 'access-disabled' });
    expect(await autoInvite(h.deps, integration, event('P-REG'))).toEqual({ invited: false, reason: 'already-registered' });
    await h.settings({ autoInvite: false });
    expect(await autoInvite(h.deps, integration, event('P-1'))).toEqual({ invited: false, reason: 'practice-setting-off' });
    expect(h.mail.sent).toHaveLength(1); // only P-REG's staff invitation
    const skipped = h.mem.audit.filter((a) => a.action === 'invitation.auto-skipped');
    expect(skipped.map((a) => a.detail.reason)).toEqual([
      'signer-not-enabled',
      'signer-not-enabled',
      'no-record',
      'no-email',
      'access-disabled',
      'already-registered',
      'practice-setting-off',
    ]);
    expect(skipped[0]).toMatchObject({ actor: 'frontdesk', target: 'patient:P-1', detail: { calledBy: 'dr.lee', trigger: 'note-signed' } });
  });

  it('an SES failure still invites (delivery Failed): staff can resend', async () => {
    const h = await ready();
    h.mail.fail(true);
    expect(await autoInvite(h.deps, integration, event())).toMatchObject({ invited: true, delivery: 'Failed' });
    expect(h.record('P-1')?.invite).toMatchObject({ status: 'Pending', delivery: 'Failed' });
  });
});
