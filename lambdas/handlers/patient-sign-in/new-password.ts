import { patientDeps } from '../../adapters/deps.ts';
import { completeNewPassword } from '../../domain/patient-sign-in.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { patientSignInRoutes } from '../../../lib/routes/patient-sign-in.ts';
import { tellPractice } from '../../adapters/practice-notices.ts';

export const handler = defineHandler(patientSignInRoutes, 'patient-new-password', async ({ body, sourceIp, log }) => {
  const { kind: _kind, ...tokens } = await completeNewPassword({ ...patientDeps(), notify: tellPractice(log) }, { ...body, sourceIp });
  return { status: 200, body: tokens };
});
