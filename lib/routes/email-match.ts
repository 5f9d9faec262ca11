/**
 * The email-match registration method (auto-invite is lib/routes/auto-invite.ts). Grants: the
 * public request may read records (the byEmail index) and put only email-match links
 * (emailMatch:issue), never a record; only the confirmation may create a patient login.
 */
import { EmailMatchConfirm, EmailMatchRequest } from '../../lambdas/schemas/email-match.ts';
import { route, schemaOf, type Route } from './types.ts';

export const emailMatchRoutes = [
  route({
    id: 'email-match-request',
    method: 'POST',
    path: '/registrations/email',
    entry: 'lambdas/handlers/email-match/request.ts',
    caller: 'public',
    grants: ['records:read', 'throttle:readwrite', 'emailMatch:issue', 'audit:append', 'mail:send'],
    summary:
      'The email-match method (only where settings.selfRegistration is on): where a record with access enabled and no login has this email, a verification link (valid 24 hours) is emailed. Always 202 with one body and the same time, matched or not; 429 past the per-address limit',
    request: { body: EmailMatchRequest },
    responses: { 202: schemaOf('email-match', 'EmailMatchAccepted') },
  }),
  route({
    id: 'email-match-confirm',
    method: 'POST',
    path: '/registrations/email/confirm',
    entry: 'lambdas/handlers/email-match/confirm.ts',
    caller: 'public',
    grants: ['records:write', 'audit:append', 'throttle:readwrite', 'patientPool:register', 'mail:send'],
    summary:
      'Finish the email-match method: verification token + chosen username and password create the login (Normal Registration). 400 weak password, 409 username taken (the link still works), 410 link no longer valid (expired, used, replaced, cancelled or unknown: one body)',
    request: { body: EmailMatchConfirm },
    responses: { 201: schemaOf('invitation', 'Registered') },
    problems: [409, 410],
  }),
] as const satisfies readonly Route[];
