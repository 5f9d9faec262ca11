import { listSelfRegistrations } from '../../domain/self-registration.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { selfRegistrationRoutes } from '../../../lib/routes/self-registration.ts';
import { selfRegistrationDeps } from './deps.ts';

export const handler = defineHandler(selfRegistrationRoutes, 'self-registration-list', async ({ query, log }) => {
  const page = await listSelfRegistrations(selfRegistrationDeps(log), query);
  return { status: 200, body: page };
});
