/** Finish an invitation: the patient registers with link + PIN (domain: lambdas/domain/registration.ts). Only registration may open a PIN (pinKey:decrypt) and create a patient login. */
import { RegistrationRequest } from '../../lambdas/schemas/invitation.ts';
import { route, schemaOf, type Route } from './types.ts';

export const registrationRoutes = [
  route({
    id: 'registration-create',
    method: 'POST',
    path: '/registrations',
    entry: 'lambdas/handlers/registration/create.ts',
    caller: 'public',
    // patientPool:signIn: a proxy invitation accepted with `existingLogin` proves that login's password (issue 18).
    grants: ['records:write', 'audit:append', 'throttle:readwrite', 'pinKey:decrypt', 'patientPool:register', 'patientPool:signIn', 'mail:send', 'phoneCodeKey:mac'],
    summary:
      'Finish an invitation: link token + PIN + chosen username and password create the login. 401 wrong PIN (the 5th locks the link), 400 weak password, 409 username taken, 410 link no longer valid',
    request: { body: RegistrationRequest },
    responses: { 201: schemaOf('invitation', 'Registered') },
    problems: [401, 409, 410],
  }),
] as const satisfies readonly Route[];
