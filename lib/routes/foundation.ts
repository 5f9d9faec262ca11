/** Foundation routes: the patient search, the audit trail, staff permissions (health and OpenAPI: ./service.ts). */
import { AuditQuery } from '../../lambdas/schemas/audit.ts';
import { PatientParams, PatientSearchQuery } from '../../lambdas/schemas/portal-record.ts';
import { StaffParams, StaffPermissionsChange } from '../../lambdas/schemas/staff.ts';
import { route, schemaOf, type Route } from './types.ts';

export const foundationRoutes = [
  route({
    id: 'patients-search',
    method: 'GET',
    path: '/patients',
    entry: 'lambdas/handlers/patients/search.ts',
    caller: 'staff',
    grants: ['records:read'],
    summary: 'List or search portal records by patientId prefix, email, username or masterCase',
    request: { query: PatientSearchQuery },
    responses: { 200: schemaOf('portal-record', 'PatientSearchResult') },
  }),
  route({
    id: 'portal-audit-list',
    method: 'GET',
    path: '/patients/{patientId}/portal/audit',
    entry: 'lambdas/handlers/audit/list.ts',
    caller: 'admin',
    grants: ['audit:read'],
    summary: "The record's audit trail, newest first",
    request: { params: PatientParams, query: AuditQuery },
    responses: { 200: schemaOf('audit', 'AuditPage') },
  }),
  route({
    id: 'staff-permissions-get',
    method: 'GET',
    path: '/staff/{staffId}/permissions',
    entry: 'lambdas/handlers/staff-permissions/get.ts',
    caller: 'staff',
    grants: ['records:read', 'staffPool:read'],
    summary: "One staff user's permissions (404 for a user the staff pool does not have)",
    request: { params: StaffParams },
    responses: { 200: schemaOf('staff', 'StaffPermissions') },
  }),
  route({
    id: 'staff-permissions-put',
    method: 'PUT',
    path: '/staff/{staffId}/permissions',
    entry: 'lambdas/handlers/staff-permissions/put.ts',
    caller: 'admin',
    grants: ['records:write', 'audit:append', 'staffPool:read'],
    summary: "Change one staff user's permissions",
    request: { params: StaffParams, body: StaffPermissionsChange },
    responses: { 200: schemaOf('staff', 'StaffPermissions') },
  }),
] as const satisfies readonly Route[];
