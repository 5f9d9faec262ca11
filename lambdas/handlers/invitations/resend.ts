import { resendInvitation } from '../../domain/invitations.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { invitationRoutes } from '../../../lib/routes/invitations.ts';
import { invitationDeps } from './deps.ts';

export const handler = defineHandler(invitationRoutes, 'invitation-resend', async ({ params, principal, sourceIp, log }) => {
  const resent = await resendInvitation(invitationDeps(log, params.patientId), { id: principal.staffId, staff: principal, sourceIp }, params.patientId);
  return { status: 200, body: resent };
});
