import { recordStore, systemClock } from '../../adapters/deps.ts';
import { cancelInvitation } from '../../domain/invitations.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { invitationRoutes } from '../../../lib/routes/invitations.ts';
import { invitationLinks } from './deps.ts';

export const handler = defineHandler(invitationRoutes, 'invitation-cancel', async ({ params, principal, sourceIp }) => {
  const record = await cancelInvitation(
    { store: recordStore(), invitations: invitationLinks(), clock: systemClock },
    { id: principal.staffId, staff: principal, sourceIp },
    params.patientId,
  );
  return { status: 200, body: record, headers: { etag: `"${record.version}"` } };
});
