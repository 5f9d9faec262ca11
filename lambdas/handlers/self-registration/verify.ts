import { verifySelfRegistration } from '../../domain/self-registration.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { selfRegistrationRoutes } from '../../../lib/routes/self-registration.ts';
import { selfRegistrationDeps } from './deps.ts';

export const handler = defineHandler(selfRegistrationRoutes, 'self-registration-verify', async ({ body, sourceIp, log }) => {
  const verified = await verifySelfRegistration(selfRegistrationDeps(log), { token: body.token, sourceIp });
  return { status: 200, body: verified };
});
