import { requestSelfRegistration } from '../../domain/self-registration.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { selfRegistrationDeps } from './deps.ts';

export const handler = defineHandler('self-registration-request', async ({ body, sourceIp, log }) => {
  const accepted = await requestSelfRegistration(selfRegistrationDeps(log), { ...body, sourceIp });
  return { status: 202, body: accepted };
});
