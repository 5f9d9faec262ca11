/** Staff actions on a patient's login: Register Patient, revoke, clear the sign-in lock (domain: lambdas/domain/patient-access.ts). */
import { PatientParams } from '../../lambdas/schemas/portal-record.ts';
import { route, schemaOf, type Route } from './types.ts';

export const patientAccessRoutes = [
  route({
    id: 'register-patient',
    method: 'POST',
    path: '/patients/{patientId}/portal/registration',
    entry: 'lambdas/handlers/patient-access/register.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'patientPool:admin', 'throttle:readwrite'],
    summary: '"Register Patient": create or overwrite the login with a temporary password (needs invite permission); cancels a pending invitation and clears the sign-in lock; 409 when access is off',
    request: { params: PatientParams },
    responses: { 201: schemaOf('session', 'TemporaryRegistration') },
  }),
  route({
    id: 'patient-revoke',
    method: 'POST',
    path: '/patients/{patientId}/portal/revoke',
    entry: 'lambdas/handlers/patient-access/revoke.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'patientPool:admin'],
    summary: "Disable access and end every session of the patient now",
    request: { params: PatientParams },
    responses: { 200: schemaOf('portal-record', 'PortalRecord') },
  }),
  route({
    id: 'portal-sign-in-unlock',
    method: 'DELETE',
    path: '/patients/{patientId}/portal/sign-in-lock',
    entry: 'lambdas/handlers/patient-access/unlock.ts',
    caller: 'staff',
    grants: ['records:read', 'throttle:readwrite', 'audit:append'],
    summary: "Clear the sign-in waits and lock of this patient's login, after the front desk checked who is calling (needs invite permission); audited",
    request: { params: PatientParams },
    responses: { 200: schemaOf('portal-record', 'PortalRecord') },
  }),
] as const satisfies readonly Route[];
