/**
 * Self-registration with staff approval (issue 19). Grants: the public routes reach only the
 * SELFREG* items (selfRegistration:write), the settings and their throttle counters, never a
 * portal record; only the staff approval writes a record (and its email-match link).
 */
import { SelfRegistrationApprove, SelfRegistrationParams, SelfRegistrationQuery, SelfRegistrationReject, SelfRegistrationRequest, SelfRegistrationVerify } from '../../lambdas/schemas/self-registration.ts';
import { route, schemaOf, type Route } from './types.ts';

export const selfRegistrationRoutes = [
  route({
    id: 'self-registration-request',
    method: 'POST',
    path: '/self-registrations',
    entry: 'lambdas/handlers/self-registration/request.ts',
    caller: 'public',
    grants: ['records:read', 'throttle:readwrite', 'selfRegistration:write', 'mail:send'],
    summary:
      'Only where settings.selfRegistration (else 404, as for an unknown route): email a link (valid 24 hours) proving the address; once proved the request waits for staff. Always 202 with one body and the same time, for any address (known or not, with a login or not, repeated or not); one open request per address (an unproved one is replaced, a waiting one sends nothing new); 429 past the per-address limit. Unproved requests are deleted after 24 hours',
    request: { body: SelfRegistrationRequest },
    responses: { 202: schemaOf('self-registration', 'SelfRegistrationAccepted') },
    problems: [404],
  }),
  route({
    id: 'self-registration-verify',
    method: 'POST',
    path: '/self-registrations/verify',
    entry: 'lambdas/handlers/self-registration/verify.ts',
    caller: 'public',
    grants: ['records:read', 'throttle:readwrite', 'selfRegistration:write', 'audit:append', 'mail:send'],
    summary:
      'The emailed link proves the address: the request waits for staff approval (kept 30 days) and the practice inbox (settings.notifyEmail) is told, with no PHI. 410 for an expired, used, replaced or unknown link (one body); 404 where settings.selfRegistration is off',
    request: { body: SelfRegistrationVerify },
    responses: { 200: schemaOf('self-registration', 'SelfRegistrationVerified') },
    problems: [404, 410],
  }),
  route({
    id: 'self-registration-list',
    method: 'GET',
    path: '/self-registrations',
    entry: 'lambdas/handlers/self-registration/list.ts',
    caller: 'staff',
    grants: ['selfRegistration:read'],
    summary: 'Self-registration requests of one status (default Pending), oldest first. Approved and rejected requests are deleted 7 days after the decision',
    request: { query: SelfRegistrationQuery },
    responses: { 200: schemaOf('self-registration', 'SelfRegistrationPage') },
  }),
  route({
    id: 'self-registration-approve',
    method: 'POST',
    path: '/self-registrations/{requestId}/approve',
    entry: 'lambdas/handlers/self-registration/approve.ts',
    caller: 'staff',
    grants: ['records:write', 'selfRegistration:write', 'audit:append', 'mail:send'],
    summary:
      'Invite permission; audited. Link the request to the record patientId (created when missing, with the request\'s email; an existing record gets that email) and email the person a /portal/verify#token=… link (24 hours) finished by POST /registrations/email/confirm whatever settings.emailMatch says. 409 when the record already has a login or has access off, or the request was already decided (of concurrent approvals exactly one succeeds); 404 unknown or expired request',
    request: { params: SelfRegistrationParams, body: SelfRegistrationApprove },
    responses: { 200: schemaOf('portal-record', 'PortalRecord') },
    problems: [409],
  }),
  route({
    id: 'self-registration-reject',
    method: 'POST',
    path: '/self-registrations/{requestId}/reject',
    entry: 'lambdas/handlers/self-registration/reject.ts',
    caller: 'staff',
    grants: ['records:read', 'selfRegistration:write', 'audit:append', 'mail:send'],
    summary:
      'Invite permission; audited (the reason is kept with the request, never in the audit or the email). The person is emailed in words that reveal no record. 409 already decided; 404 unknown or expired request',
    request: { params: SelfRegistrationParams, body: SelfRegistrationReject },
    responses: { 200: schemaOf('self-registration', 'SelfRegistrationRejected') },
    problems: [409],
  }),
] as const satisfies readonly Route[];
