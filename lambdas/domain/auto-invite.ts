/**
 * Auto-invite (issue 3 item 6): when a note is signed, invite the patient if the practice has
 * settings.autoInvite on, the signer's permissions have autoInvite (and canInvite), and the
 * record has an email, no login and no pending invitation. The invitation itself is the staff
 * one (invitations.ts sendInvitation): the same link, PIN, email, one-transaction commit and
 * Failed mark; only the PIN is not answered here (staff see it through GET …/access-code, which
 * audits the view).
 *
 * Who acts (security rule 28): the caller, always. `signedBy` is only what the event reports:
 * the signer's own autoInvite preference decides whether a signed note should invite at all, and
 * the signer is written into the audit detail, but the invitation is the caller's action, allowed
 * by the caller's own invite permission (403 otherwise) and audited with the caller as actor. A
 * staff user without invite permission cannot invite by naming a colleague who has it.
 *
 * sendInvitation makes the record checks inside its retry loop, so a record that changes
 * meanwhile and two events at once are decided there, once: the second of two identical
 * events finds the first one's invitation pending (rule 25). Its refusals become reasons here.
 */
import type { AutoInviteReason, AutoInviteResult } from '../schemas/email-match.ts';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError } from './errors.ts';
import { sendInvitation, type InvitationDeps } from './invitations.ts';
import { permissionsOf, requireInvitePermission } from './permissions.ts';
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
};

export interface NoteSignedEvent {
  patientId: string;
  /** The staff user who signed the note (staff-pool username): their preference, and audit detail; never the actor. */
  signedBy: string;
}

/**
 * POST /events/note-signed. `caller` is the staff user (or integration) that posted the event: the
 * actor of the invitation and of every audit entry, and the one whose invite permission counts
 * (403 without it, before anything else). Every other outcome is audited on the patient's trail.
 * DynamoDB calls (the caller's permissions came with the token check's staff-record read): 1 Get
 * (settings); then, not invited, 1 Put (audit); invited, sendInvitation's 1 Get (settings) + 2 Get
 * (record, invitation) + 1 TransactWrite and, after SES, 1 Get + 1 TransactWrite (the delivery mark).
 */
export async function autoInvite(deps: InvitationDeps, caller: Actor, event: NoteSignedEvent): Promise<AutoInviteResult> {
  requireInvitePermission(caller);
  const detail = { trigger: 'note-signed', signedBy: event.signedBy };
  // The signer's preference is known only from the signer's own record, which comes with the
  // caller's checked token: when the caller names themselves (any case). A signer named by someone
  // else brings no preference (rule 28, issue 13 item 11): nothing is looked up by a name in a body.
  const self = event.signedBy.toLowerCase() === caller.id.toLowerCase();
  const signer: Actor = { id: event.signedBy, sourceIp: caller.sourceIp, ...(self && caller.staff ? { staff: caller.staff } : {}) };
  const skip = async (reason: AutoInviteReason): Promise<AutoInviteResult> => {
    await deps.store.appendAudit(auditEvent(caller, patientTarget(event.patientId), 'invitation.auto-skipped', deps.clock(), { ...detail, reason }));
    return { invited: false, reason };
  };

  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  if (!settings.autoInvite) return skip('practice-setting-off');
  // The signer's canInvite needs no check of its own: a signer with staff permissions is the
  // caller, whose canInvite requireInvitePermission checked above (an admin's is always true).
  if (!permissionsOf(signer).autoInvite) return skip('signer-not-enabled');

  try {
    // The caller's own invitation: sendInvitation checks the caller's permission again (it may
    // have been taken away meanwhile: then 403, not a reason) and audits the caller as actor.
    const sent = await sendInvitation(deps, caller, event.patientId, detail);
    return { invited: true, delivery: sent.delivery, expiresAt: sent.expiresAt };
  } catch (err) {
    const reason = err instanceof DomainError ? reasonOfCode[err.code] : undefined;
    if (reason) return skip(reason);
    throw err;
  }
}
