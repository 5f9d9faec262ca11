/** A patient's portal record: read and edit (domain: lambdas/domain/portal-record.ts). */
import { IfMatchHeader, PatientParams, PortalRecordChange } from '../../lambdas/schemas/portal-record.ts';
import { route, schemaOf, type Route } from './types.ts';

export const portalRecordRoutes = [
  route({
    id: 'portal-record-get',
    method: 'GET',
    path: '/patients/{patientId}/portal',
    entry: 'lambdas/handlers/portal-record/get.ts',
    caller: 'staff',
    grants: ['records:read'],
    summary: "Read a patient's portal record",
    request: { params: PatientParams },
    responses: { 200: schemaOf('portal-record', 'PortalRecord') },
  }),
  route({
    id: 'portal-record-put',
    method: 'PUT',
    path: '/patients/{patientId}/portal',
    entry: 'lambdas/handlers/portal-record/put.ts',
    caller: 'staff',
    // patientPool:admin keeps the login's enabled flag in step with accessEnabled; mail:send tells
    // the old address of a registered record's email change (rule 29).
    grants: ['records:write', 'audit:append', 'patientPool:admin', 'mail:send'],
    summary: "Create or edit a patient's portal record (If-Match: version for optimistic concurrency)",
    request: { params: PatientParams, headers: IfMatchHeader, body: PortalRecordChange },
    responses: { 200: schemaOf('portal-record', 'PortalRecord') },
    problems: [409],
  }),
] as const satisfies readonly Route[];
