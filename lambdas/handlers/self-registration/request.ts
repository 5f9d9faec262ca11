import { requestSelfRegistration } from '../../domain/self-registration.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { selfRegistrationRoutes } from '../../../lib/routes/self-registration.ts';
import { selfRegistrationDeps } from './deps.ts';

export const handler = defineHandler(selfRegistrationRoutes, 'self-registration-request', async ({ body, sourceIp, log }) => {
  const accepted = await requestSelfRegistration(selfRegistrationDeps(log), { ...body, sourceIp });
  return { status: 202, body: accepted };
});
