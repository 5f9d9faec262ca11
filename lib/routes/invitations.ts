/**
 * Invitations: staff invite, resend, cancel and look up the PIN; the patient looks the link up
 * (its token in a POST body, rule 26) and registers (lib/routes/registration.ts). Grants are per
 * function: only the invite function may seal a PIN (pinKey:encrypt), only access-code and
 * registration may open one (pinKey:decrypt), only invite and resend may email, only
 * registration may create a patient login.
 */
import { InvitationLookupRequest } from '../../lambdas/schemas/invitation.ts';
import { PatientParams } from '../../lambdas/schemas/portal-record.ts';
import { route, schemaOf, type Route } from './types.ts';

export const invitationRoutes = [
  route({
    id: 'invitation-create',
    method: 'POST',
    path: '/patients/{patientId}/portal/invitation',
    entry: 'lambdas/handlers/invitations/create.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'pinKey:encrypt', 'mail:send'],
    summary:
      'Invite the patient: email a registration link (never the PIN) and answer the new PIN once. 403 without invite permission, 409 already registered or access disabled, 422 no email; delivery "Failed" when SES refused (resend then)',
    request: { params: PatientParams },
    responses: { 201: schemaOf('invitation', 'InvitationCreated') },
    problems: [409, 422],
  }),
  route({
    id: 'invitation-resend',
    method: 'POST',
    path: '/patients/{patientId}/portal/invitation/resend',
    entry: 'lambdas/handlers/invitations/resend.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'mail:send'],
    summary: 'Email a fresh link (the old one stops working) with the same PIN and a renewed expiry; also unlocks a locked invitation. 404 nothing pending',
    request: { params: PatientParams },
    responses: { 200: schemaOf('invitation', 'InvitationResent') },
  }),
  route({
    id: 'invitation-cancel',
    method: 'DELETE',
    path: '/patients/{patientId}/portal/invitation',
    entry: 'lambdas/handlers/invitations/cancel.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append'],
    summary: 'Cancel the pending invitation: its link and PIN stop working. 404 nothing pending',
    request: { params: PatientParams },
    responses: { 200: schemaOf('portal-record', 'PortalRecord') },
  }),
  route({
    id: 'invitation-access-code',
    method: 'GET',
    path: '/patients/{patientId}/portal/access-code',
    entry: 'lambdas/handlers/invitations/access-code.ts',
    caller: 'staff',
    // audit:append on a GET: showing a PIN is itself an audited event (rule 18).
    grants: ['records:read', 'audit:append', 'pinKey:decrypt'],
    summary: "Show a pending invitation's PIN again (the lost-PIN case); every view is audited. 404 none pending",
    request: { params: PatientParams },
    responses: { 200: schemaOf('invitation', 'AccessCode') },
  }),
  route({
    id: 'invitation-lookup',
    // A POST with the token in the body: a secret never goes in a path or query (rule 26).
    method: 'POST',
    path: '/invitations/lookup',
    entry: 'lambdas/handlers/invitations/lookup.ts',
    caller: 'public',
    grants: ['records:read', 'throttle:readwrite'],
    summary:
      'Check an invitation link (its token in the body; replaces GET /invitations/{token}). 410 with one body for an expired, cancelled, used, locked or unknown link',
    request: { body: InvitationLookupRequest },
    responses: { 200: schemaOf('invitation', 'InvitationLookup') },
    problems: [410],
  }),
] as const satisfies readonly Route[];

