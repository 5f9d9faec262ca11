/** Patient sign-in, the account, and staff actions on a patient's login (Register Patient, revoke). */
import { PatientParams, PortalRecord } from '../../lambdas/schemas/portal-record.ts';
import { Account, CredentialsChange, NewPasswordRequest, PatientSignIn, TemporaryRegistration } from '../../lambdas/schemas/session.ts';
import { Challenge, Tokens } from '../../lambdas/schemas/staff.ts';
import { Diagnosis } from '../../lambdas/schemas/diagnosis.ts';
import { AccountSignIns } from '../../lambdas/schemas/account-sign-ins.ts';
import { z } from 'zod';
import { route, type Route } from './types.ts';

export const patientRoutes = [
  route({
    id: 'patient-sign-in',
    method: 'POST',
    path: '/sessions',
    entry: 'lambdas/handlers/sessions/create.ts',
    caller: 'public',
    grants: ['records:read', 'challenge:write', 'throttle:readwrite', 'audit:append', 'patientPool:signIn'],
    summary:
      'Patient sign-in. 401 {resetAvailable: true} for a wrong password or unknown username (one body); 403 access disabled; NEW_PASSWORD_REQUIRED for a temporary password or forced change; 429 with Retry-After after repeated failures',
    request: { body: PatientSignIn },
    responses: { 200: z.union([Tokens, Challenge]) },
    problems: [401, 403],
  }),
  route({
    id: 'patient-new-password',
    method: 'POST',
    path: '/sessions/new-password',
    entry: 'lambdas/handlers/sessions/new-password.ts',
    caller: 'public',
    grants: ['records:write', 'audit:append', 'patientPool:reset', 'patientPool:signIn'],
    summary: 'Complete NEW_PASSWORD_REQUIRED: set the new password (and optionally a new username), get tokens',
    request: { body: NewPasswordRequest },
    responses: { 200: Tokens },
    problems: [401], // the new-password session is dead or was never issued
  }),
  route({
    id: 'account-get',
    method: 'GET',
    path: '/account',
    entry: 'lambdas/handlers/account/get.ts',
    caller: 'patient',
    grants: ['records:read'],
    summary: "The signed-in patient's account",
    request: {},
    responses: { 200: Account },
  }),
  route({
    id: 'account-sign-ins',
    method: 'GET',
    path: '/account/sign-ins',
    entry: 'lambdas/handlers/account/sign-ins.ts',
    caller: 'patient',
    grants: ['records:read', 'audit:read'],
    summary: "The last sign-ins to the signed-in patient's login (time, outcome in words, source address), newest first, from the audit trail",
    request: {},
    responses: { 200: AccountSignIns },
  }),
  route({
    id: 'account-credentials',
    method: 'PUT',
    path: '/account/credentials',
    entry: 'lambdas/handlers/account/credentials.ts',
    caller: 'patient',
    // mail:send: the "credentials were changed" notice (security rule 15).
    grants: ['records:write', 'audit:append', 'patientPool:reset', 'mail:send', 'patientPool:signIn'],
    summary: 'Change password and/or username with the current password; every other session ends; a notice is emailed; answers fresh tokens',
    request: { body: CredentialsChange },
    responses: { 200: Tokens },
  }),
  route({
    id: 'register-patient',
    method: 'POST',
    path: '/patients/{patientId}/portal/registration',
    entry: 'lambdas/handlers/patient-login/register.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'patientPool:admin', 'throttle:readwrite'],
    summary: '"Register Patient": create or overwrite the login with a temporary password (needs invite permission); cancels a pending invitation and clears the sign-in lock; 409 when access is off',
    request: { params: PatientParams },
    responses: { 201: TemporaryRegistration },
  }),
  route({
    id: 'patient-revoke',
    method: 'POST',
    path: '/patients/{patientId}/portal/revoke',
    entry: 'lambdas/handlers/patient-login/revoke.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'patientPool:admin'],
    summary: "Disable access and end every session of the patient now",
    request: { params: PatientParams },
    responses: { 200: PortalRecord },
  }),
  route({
    id: 'portal-diagnosis',
    method: 'GET',
    path: '/patients/{patientId}/portal/diagnosis',
    entry: 'lambdas/handlers/portal-record/diagnosis.ts',
    caller: 'staff',
    // records:read covers the THROTTLE# counter it reads; audit:read the last sign-ins.
    grants: ['records:read', 'audit:read'],
    summary: "Why this patient can or cannot get in: every reason as a code and one sentence staff can read aloud, with what the front desk can do. Never a secret, hash or password",
    request: { params: PatientParams },
    responses: { 200: Diagnosis },
  }),
  route({
    id: 'portal-sign-in-unlock',
    method: 'DELETE',
    path: '/patients/{patientId}/portal/sign-in-lock',
    entry: 'lambdas/handlers/portal-record/unlock.ts',
    caller: 'staff',
    grants: ['records:read', 'throttle:readwrite', 'audit:append'],
    summary: "Clear the sign-in waits and lock of this patient's login, after the front desk checked who is calling (needs invite permission); audited",
    request: { params: PatientParams },
    responses: { 200: PortalRecord },
  }),
] as const satisfies readonly Route[];
