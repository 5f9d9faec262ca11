import { patientDeps } from '../../adapters/deps.ts';
import { completeNewPassword } from '../../domain/patient-sign-in.ts';
import { defineHandler } from '../../http/public-handler.ts';

export const handler = defineHandler('patient-new-password', async ({ body, sourceIp }) => {
  const { kind: _kind, ...tokens } = await completeNewPassword(patientDeps(), { ...body, sourceIp });
  return { status: 200, body: tokens };
});
