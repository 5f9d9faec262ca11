/**
 * Auto-invite (issue 3 item 6), the rules beside the flow test: the signer's own preference counts
 * only when the caller names themselves (any case; rule 28: never a colleague's by name), a
 * caller whose own autoInvite is off is not enabled even with invite permission, and a failure
 * that is not a refusal (a backend error) is the caller's error, never a reason.
 */
import { describe, expect, it } from 'vitest';
import { autoInvite } from '../../../lambdas/domain/auto-invite.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { emailMatchHarness } from './email-match-harness.ts';

const caller = (id: string, permissions: { canInvite: boolean; autoInvite: boolean }, roles = ['staff']) => ({
  id,
  sourceIp: '203.0.113.50',
  staff: { sub: `sub-${id}`, roles, permissions },
});

async function ready() {
  const h = emailMatchHarness();
  await h.settings({ autoInvite: true });
  await h.seed('P-1');
  return h;
}

describe('auto-invite: whose preference counts', () => {
  it('the caller naming themselves in another case is still themselves: their preference counts', async () => {
    const h = await ready();
    expect(await autoInvite(h.deps, caller('Dr.Lee', { canInvite: true, autoInvite: true }), { patientId: 'P-1', signedBy: 'dr.LEE' })).toMatchObject({ invited: true });
    expect(h.record('P-1')?.invite.status).toBe('Pending');
    expect(h.mem.audit.find((a) => a.action === 'invitation.created')).toMatchObject({ actor: 'Dr.Lee', detail: { signedBy: 'dr.LEE', trigger: 'note-signed' } });
  });

  it('a caller with invite permission but their own autoInvite off is not enabled: skipped, nothing sent', async () => {
    const h = await ready();
    const frontdesk = caller('frontdesk', { canInvite: true, autoInvite: false });
    expect(await autoInvite(h.deps, frontdesk, { patientId: 'P-1', signedBy: 'frontdesk' })).toEqual({ invited: false, reason: 'signer-not-enabled' });
    expect(h.mail.sent).toHaveLength(0);
    expect(h.record('P-1')?.invite.status).toBe('None');
    expect(h.mem.audit.filter((a) => a.action === 'invitation.auto-skipped')).toMatchObject([
      { actor: 'frontdesk', target: 'patient:P-1', outcome: 'success', detail: { reason: 'signer-not-enabled', signedBy: 'frontdesk', trigger: 'note-signed' } },
    ]);
  });

  it('an admin who wants auto-invites invites without the canInvite flag (admins may always invite)', async () => {
    const h = await ready();
    const admin = caller('boss', { canInvite: false, autoInvite: true }, ['admin']);
    expect(await autoInvite(h.deps, admin, { patientId: 'P-1', signedBy: 'boss' })).toMatchObject({ invited: true, delivery: 'Sent' });
  });

  it('a colleague naming a signer who shares their id only in part is not that signer', async () => {
    const h = await ready();
    const lee = caller('dr.lee', { canInvite: true, autoInvite: true });
    expect(await autoInvite(h.deps, lee, { patientId: 'P-1', signedBy: 'dr.lee2' })).toEqual({ invited: false, reason: 'signer-not-enabled' });
    expect(h.mail.sent).toHaveLength(0);
  });
});

describe('auto-invite: failures that are not refusals', () => {
  it('a backend error is thrown, not turned into a reason, and no skip is audited', async () => {
    const h = await ready();
    const lee = caller('dr.lee', { canInvite: true, autoInvite: true });
    const down = Object.assign(new Error('down'), { name: 'InternalServerError' });
    h.deps.store.getRecord = () => Promise.reject(down);
    await expect(autoInvite(h.deps, lee, { patientId: 'P-1', signedBy: 'dr.lee' })).rejects.toBe(down);
    // Not a DomainError, though it carries the code of a refusal: still an error, not a reason.
    const lookalike = Object.assign(new Error('x'), { code: 'not-found' });
    h.deps.store.getRecord = () => Promise.reject(lookalike);
    await expect(autoInvite(h.deps, lee, { patientId: 'P-1', signedBy: 'dr.lee' })).rejects.toBe(lookalike);
    const unknown = new DomainError('unavailable', 'something-else', 'x');
    h.deps.store.getRecord = () => Promise.reject(unknown);
    await expect(autoInvite(h.deps, lee, { patientId: 'P-1', signedBy: 'dr.lee' })).rejects.toBe(unknown);
    expect(h.mem.audit.filter((a) => a.action === 'invitation.auto-skipped')).toEqual([]);
  });
});
