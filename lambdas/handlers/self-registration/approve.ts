import { approveSelfRegistration } from '../../domain/self-registration.ts';
import { defineHandler } from '../../http/handler.ts';
import { selfRegistrationDeps } from './deps.ts';

export const handler = defineHandler('self-registration-approve', async ({ params, body, principal, sourceIp, log }) => {
  const record = await approveSelfRegistration(selfRegistrationDeps(log), { id: principal.staffId, staff: principal, sourceIp }, params.requestId, body.patientId);
  return { status: 200, body: record };
});
