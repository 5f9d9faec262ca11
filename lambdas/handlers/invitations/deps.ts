/** What the invitation handlers hand to the domain: the real adapters, the request's logger for warnings. */
import { mailer, pinVault, recordStore, settingsDefaults, systemClock } from '../../adapters/deps.ts';
import { dynamoInvitationLinks } from '../../adapters/dynamo-invitations.ts';
import { sesMailer } from '../../adapters/ses-mailer.ts';
import type { InvitationDeps, InvitationLinks } from '../../domain/invitations.ts';
import type { Logger } from '../../http/logger.ts';

let links: InvitationLinks | undefined;

/** The invitations (one-time links in the invitation key space), made once per cold start. */
export const invitationLinks = (): InvitationLinks => (links ??= dynamoInvitationLinks());

/** With a patientId, the invitation email is tagged with it, so SES's delivery events find the record. */
export const invitationDeps = (log: Logger, patientId?: string): InvitationDeps => ({
  store: recordStore(),
  invitations: invitationLinks(),
  vault: pinVault(),
  mailer: patientId ? sesMailer({ patientId, purpose: 'invitation' }) : mailer(),
  clock: systemClock,
  settingsDefaults: settingsDefaults(),
  warn: (msg, fields) => log.warn(msg, fields),
});
