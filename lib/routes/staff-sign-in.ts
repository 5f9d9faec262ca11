/** Staff sign-in and its challenges (domain: lambdas/domain/staff-sign-in.ts). */
import { SignInRequest, StaffChallengeAnswer } from '../../lambdas/schemas/staff.ts';
import { route, schemaOf, type Route } from './types.ts';

export const staffSignInRoutes = [
  route({
    id: 'staff-sign-in',
    method: 'POST',
    path: '/staff/sessions',
    entry: 'lambdas/handlers/staff-sign-in/create.ts',
    caller: 'public',
    grants: ['throttle:readwrite', 'audit:append', 'staffPool:signIn', 'staff:session'],
    summary: 'Staff sign-in against the staff user pool: tokens or a challenge (NEW_PASSWORD_REQUIRED, MFA_SETUP, SOFTWARE_TOKEN_MFA); 429 with Retry-After after repeated failures',
    request: { body: SignInRequest },
    responses: { 200: schemaOf('staff', 'StaffSignInAnswer') },
    problems: [401],
  }),
  route({
    id: 'staff-sign-in-challenge',
    method: 'POST',
    path: '/staff/sessions/challenge',
    entry: 'lambdas/handlers/staff-sign-in/challenge.ts',
    caller: 'public',
    grants: ['throttle:readwrite', 'audit:append', 'staffPool:signIn', 'staff:session'],
    summary: 'Answer a staff sign-in challenge: a new password, TOTP enrolment (secretCode, otpauthUri) or a TOTP code; 401 wrong code or dead session; 429',
    request: { body: StaffChallengeAnswer },
    responses: { 200: schemaOf('staff', 'StaffSignInAnswer') },
    problems: [401],
  }),
] as const satisfies readonly Route[];
