import { autoInvite } from '../../domain/auto-invite.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { autoInviteRoutes } from '../../../lib/routes/auto-invite.ts';
import { invitationDeps } from '../invitations/deps.ts';

export const handler = defineHandler(autoInviteRoutes, 'note-signed', async ({ body, principal, sourceIp, log }) => {
  const result = await autoInvite(invitationDeps(log, body.patientId), { id: principal.staffId, staff: principal, sourceIp }, body);
  return { status: 202, body: result };
});
