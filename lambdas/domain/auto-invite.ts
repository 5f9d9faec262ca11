/**
 * Auto-invite (issue 3 item 6): when a note is signed, invite the patient if the practice has
 * settings.autoInvite on, the signer's permissions have autoInvite (and canInvite), and the
 * record has an email, no login and no pending invitation. The invitation itself is the staff
 * one (invitations.ts sendInvitation), with the signer as its actor: the same link, PIN, email,
 * one-transaction commit and Failed mark; only the PIN is not answered here (staff see it
 * through GET …/access-code, which audits the view).
 *
 * sendInvitation makes the record checks inside its retry loop, so a record that changes
 * meanwhile and two events at once are decided there, once: the second of two identical
 * events finds the first one's invitation pending (rule 25). Its refusals become reasons here.
 */
import type { AutoInviteReason, AutoInviteResult } from '../schemas/email-match.ts';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError } from './errors.ts';
import { sendInvitation, type InvitationDeps } from './invitations.ts';
import { permissionsOf } from './permissions.ts';
import { readSettings } from './settings.ts';

/** sendInvitation's refusals, by DomainError code. */
const reasonOfCode: Record<string, AutoInviteReason> = {
  'not-found': 'no-record',
  'already-registered': 'already-registered',
  'access-disabled': 'access-disabled',
  'no-email': 'no-email',
  'invitation-pending': 'invitation-pending',
  // Two events at the very same moment: the other one's invitation is the pending one.
  'invitation-conflict': 'invitation-pending',
  // canInvite taken away between our check and the invitation's own.
  forbidden: 'signer-not-enabled',
};

export interface NoteSignedEvent {
  patientId: string;
  /** The staff user who signed the note (staff-pool username). */
  signedBy: string;
}

/**
 * POST /events/note-signed. `caller` is the staff user (or integration) that posted the event;
 * the signer is the invitation's actor. Every outcome is audited on the patient's trail.
 * DynamoDB calls: 1 Get (settings) + 1 Get (signer's permissions); then, not invited, 1 Put
 * (audit); invited, sendInvitation's 1 Get (permissions) + 1 Get (settings) + 2 Get (record,
 * invitation) + 1 TransactWrite and, after SES, 1 Get + 1 TransactWrite (the delivery mark).
 */
export async function autoInvite(deps: InvitationDeps, caller: Actor, event: NoteSignedEvent): Promise<AutoInviteResult> {
  // Permissions come with the signed-in caller (their record, by sub): the caller's own when they
  // name themselves (any case); a signer named by someone else brings none (rule 28, issue 13 item 11).
  const self = event.signedBy.toLowerCase() === caller.id.toLowerCase();
  const signer: Actor = { id: event.signedBy, sourceIp: caller.sourceIp, ...(self && caller.staff ? { staff: caller.staff } : {}) };
  const skip = async (reason: AutoInviteReason): Promise<AutoInviteResult> => {
    await deps.store.appendAudit(
      auditEvent(signer, patientTarget(event.patientId), 'invitation.auto-skipped', deps.clock(), { trigger: 'note-signed', calledBy: caller.id, reason }),
    );
    return { invited: false, reason };
  };

  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  if (!settings.autoInvite) return skip('practice-setting-off');
  const permissions = permissionsOf(signer);
  if (!permissions.autoInvite || !permissions.canInvite) return skip('signer-not-enabled');

  try {
    const sent = await sendInvitation(deps, signer, event.patientId, { trigger: 'note-signed', calledBy: caller.id });
    return { invited: true, delivery: sent.delivery, expiresAt: sent.expiresAt };
  } catch (err) {
    const reason = err instanceof DomainError ? reasonOfCode[err.code] : undefined;
    if (reason) return skip(reason);
    throw err;
  }
}
