import { rejectSelfRegistration } from '../../domain/self-registration.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { selfRegistrationRoutes } from '../../../lib/routes/self-registration.ts';
import { selfRegistrationDeps } from './deps.ts';

export const handler = defineHandler(selfRegistrationRoutes, 'self-registration-reject', async ({ params, body, principal, sourceIp, log }) => {
  const rejected = await rejectSelfRegistration(selfRegistrationDeps(log), { id: principal.staffId, staff: principal, sourceIp }, params.requestId, body.reason);
  return { status: 200, body: rejected };
});
