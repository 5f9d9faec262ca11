/** What the invitation handlers hand to the domain: the real adapters, the request's logger for warnings. */
import { invitationStore, mailer, pinVault, recordStore, settingsDefaults, systemClock } from '../../adapters/deps.ts';
import type { InvitationDeps } from '../../domain/invitations.ts';
import type { Logger } from '../../http/logger.ts';

export const invitationDeps = (log: Logger): InvitationDeps => ({
  store: recordStore(),
  invitations: invitationStore(),
  vault: pinVault(),
  mailer: mailer(),
  clock: systemClock,
  settingsDefaults: settingsDefaults(),
  warn: (msg, fields) => log.warn(msg, fields),
});
