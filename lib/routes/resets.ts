/**
 * Credential reset (issue 4): the patient asks for a reset link + PIN and confirms it; staff send
 * the same email; an admin makes every registered patient choose a new password. Grants are per
 * function: the public request function can write reset items only ('reset:issue'), never a
 * portal record (rule 8); only the confirm function may set a patient password, and only that
 * and sign-out ('patientPool:reset').
 */
import { PatientParams } from '../../lambdas/schemas/portal-record.ts';
import { ResetConfirmRequest, ResetRequest } from '../../lambdas/schemas/reset.ts';
import { route, schemaOf, type Route } from './types.ts';

export const resetRoutes = [
  route({
    id: 'reset-request',
    method: 'POST',
    path: '/credential-resets',
    entry: 'lambdas/handlers/resets/request.ts',
    caller: 'public',
    // records:read: settings, the username item, the record. No throttle: it takes no secret, and
    // each account gets at most 3 emails an hour.
    grants: ['records:read', 'reset:issue', 'audit:append', 'mail:send'],
    summary:
      'Ask for a credential reset: 202 with one body and about the same time whether or not the username exists. A registered patient with access and an email gets one email with a link and a PIN, valid settings.resetMinutes; a new request replaces the earlier link; at most 3 emails per account an hour. Where settings.patientReset is false the answer is the same 202 and no email is sent',
    request: { body: ResetRequest },
    responses: { 202: schemaOf('reset', 'ResetRequested') },
  }),
  route({
    id: 'reset-confirm',
    method: 'POST',
    path: '/credential-resets/confirm',
    entry: 'lambdas/handlers/resets/confirm.ts',
    caller: 'public',
    grants: ['records:write', 'audit:append', 'throttle:readwrite', 'patientPool:reset', 'mail:send'],
    summary:
      'Finish a reset: link token + PIN + the current username again + a new password (and optionally a new username). 200 without tokens (sign in afterwards); every session ends and a notice is emailed. 400 weak password, 401 wrong PIN or username (the 5th kills the link), 409 username taken or a reset already in progress, 410 link no longer valid (one body), 429 too many attempts from this address',
    request: { body: ResetConfirmRequest },
    responses: { 200: schemaOf('reset', 'ResetConfirmed') },
    problems: [401, 409, 410],
  }),
  route({
    id: 'staff-reset',
    method: 'POST',
    path: '/patients/{patientId}/portal/credential-reset',
    entry: 'lambdas/handlers/resets/staff.ts',
    caller: 'staff',
    grants: ['records:read', 'reset:issue', 'audit:append', 'mail:send'],
    summary:
      'Email the patient a reset link + PIN (the same email as a self-service reset; not limited by settings.patientReset). 404 no record, 409 no portal login yet ("not-registered") or access disabled, 422 no email; delivery "Failed" when SES refused (send again)',
    request: { params: PatientParams },
    responses: { 202: schemaOf('reset', 'StaffResetSent') },
    problems: [409, 422],
  }),
  route({
    id: 'forced-credential-change',
    method: 'POST',
    path: '/portal/forced-credential-change',
    entry: 'lambdas/handlers/resets/forced-change.ts',
    caller: 'admin',
    grants: ['records:write', 'audit:append'],
    summary:
      'Every registered patient must choose a new password at next sign-in (their sessions end now). Works in time-bounded runs: 202 {count, complete}; when complete is false, POST again to continue the same run',
    request: {},
    responses: { 202: schemaOf('reset', 'ForcedChangeStarted') },
  }),
] as const satisfies readonly Route[];
