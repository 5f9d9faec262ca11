import { approveSelfRegistration } from '../../domain/self-registration.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { selfRegistrationRoutes } from '../../../lib/routes/self-registration.ts';
import { selfRegistrationDeps } from './deps.ts';

export const handler = defineHandler(selfRegistrationRoutes, 'self-registration-approve', async ({ params, body, principal, sourceIp, log }) => {
  const record = await approveSelfRegistration(selfRegistrationDeps(log), { id: principal.staffId, staff: principal, sourceIp }, params.requestId, body.patientId);
  return { status: 200, body: record };
});
