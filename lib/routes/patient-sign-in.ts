/** Patient sign-in and the forced new password (domain: lambdas/domain/patient-sign-in.ts). */
import { NewPasswordRequest, PatientSignIn } from '../../lambdas/schemas/session.ts';
import { route, schemaOf, type Route } from './types.ts';

export const patientSignInRoutes = [
  route({
    id: 'patient-sign-in',
    method: 'POST',
    path: '/sessions',
    entry: 'lambdas/handlers/patient-sign-in/create.ts',
    caller: 'public',
    grants: ['records:read', 'challenge:write', 'throttle:readwrite', 'audit:append', 'patientPool:signIn'],
    summary:
      'Patient sign-in. 401 {resetAvailable: true} for a wrong password or unknown username (one body); 403 access disabled; NEW_PASSWORD_REQUIRED for a temporary password or forced change; 429 with Retry-After after repeated failures',
    request: { body: PatientSignIn },
    responses: { 200: schemaOf('staff', 'PatientSignInAnswer') },
    problems: [401, 403],
  }),
  route({
    id: 'patient-new-password',
    method: 'POST',
    path: '/sessions/new-password',
    entry: 'lambdas/handlers/patient-sign-in/new-password.ts',
    caller: 'public',
    grants: ['records:write', 'audit:append', 'patientPool:reset', 'patientPool:signIn', 'mail:send'],
    summary: 'Complete NEW_PASSWORD_REQUIRED: set the new password (and optionally a new username), get tokens',
    request: { body: NewPasswordRequest },
    responses: { 200: schemaOf('staff', 'Tokens') },
    problems: [401], // the new-password session is dead or was never issued
  }),
] as const satisfies readonly Route[];
