import { patientDeps } from '../../adapters/deps.ts';
import { changeCredentials } from '../../domain/patient-access.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('account-credentials', async ({ body, principal, sourceIp }) => {
  const { kind: _kind, ...tokens } = await changeCredentials(patientDeps(), { ...principal, sourceIp }, body);
  return { status: 200, body: tokens };
});
