import { pinVault, recordStore, systemClock } from '../../adapters/deps.ts';
import { showAccessCode } from '../../domain/invitations.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { invitationRoutes } from '../../../lib/routes/invitations.ts';
import { invitationLinks } from './deps.ts';

export const handler = defineHandler(invitationRoutes, 'invitation-access-code', async ({ params, principal, sourceIp }) => {
  const code = await showAccessCode(
    { store: recordStore(), invitations: invitationLinks(), vault: pinVault(), clock: systemClock },
    { id: principal.staffId, sourceIp },
    params.patientId,
  );
  return { status: 200, body: code };
});
