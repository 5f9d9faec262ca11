import { patientDeps } from '../../adapters/deps.ts';
import { signInPatient } from '../../domain/patient-sign-in.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { patientSignInRoutes } from '../../../lib/routes/patient-sign-in.ts';

export const handler = defineHandler(patientSignInRoutes, 'patient-sign-in', async ({ body, sourceIp, callerContext }) => {
  const result = await signInPatient(patientDeps(), { username: body.username, password: body.password, sourceIp, context: callerContext });
  if (result.kind === 'challenge') return { status: 200, body: { challenge: result.challenge, session: result.session } };
  const { kind: _kind, ...tokens } = result;
  return { status: 200, body: tokens };
});
