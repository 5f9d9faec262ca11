import { invitationStore, recordStore, systemClock } from '../../adapters/deps.ts';
import { cancelInvitation } from '../../domain/invitations.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('invitation-cancel', async ({ params, principal, sourceIp }) => {
  const record = await cancelInvitation(
    { store: recordStore(), invitations: invitationStore(), clock: systemClock },
    { id: principal.staffId, staff: principal, sourceIp },
    params.patientId,
  );
  return { status: 200, body: record, headers: { etag: `"${record.version}"` } };
});
