import { autoInvite } from '../../domain/auto-invite.ts';
import { defineHandler } from '../../http/handler.ts';
import { invitationDeps } from '../invitations/deps.ts';

export const handler = defineHandler('note-signed', async ({ body, principal, sourceIp, log }) => {
  const result = await autoInvite(invitationDeps(log, body.patientId), { id: principal.staffId, staff: principal, sourceIp }, body);
  return { status: 202, body: result };
});
