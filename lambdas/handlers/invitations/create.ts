import { sendInvitation } from '../../domain/invitations.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { invitationRoutes } from '../../../lib/routes/invitations.ts';
import { invitationDeps } from './deps.ts';

export const handler = defineHandler(invitationRoutes, 'invitation-create', async ({ params, principal, sourceIp, log }) => {
  const created = await sendInvitation(invitationDeps(log, params.patientId), { id: principal.staffId, staff: principal, sourceIp }, params.patientId);
  return { status: 201, body: created };
});
