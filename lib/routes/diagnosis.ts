/** Why a patient can or cannot get in (domain: lambdas/domain/diagnosis.ts). */
import { PatientParams } from '../../lambdas/schemas/portal-record.ts';
import { route, schemaOf, type Route } from './types.ts';

export const diagnosisRoutes = [
  route({
    id: 'portal-diagnosis',
    method: 'GET',
    path: '/patients/{patientId}/portal/diagnosis',
    entry: 'lambdas/handlers/diagnosis/get.ts',
    caller: 'staff',
    // records:read covers the THROTTLE# counter it reads; audit:read the last sign-ins.
    grants: ['records:read', 'audit:read'],
    summary: "Why this patient can or cannot get in: every reason as a code and one sentence staff can read aloud, with what the front desk can do. Never a secret, hash or password",
    request: { params: PatientParams },
    responses: { 200: schemaOf('diagnosis', 'Diagnosis') },
  }),
] as const satisfies readonly Route[];
