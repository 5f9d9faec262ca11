/**
 * The route table: the one place a route is declared. The CDK stack makes one Lambda function
 * and one least-privilege role per entry from it; the local server routes requests with it; the
 * handlers take their caller rule and request shapes from it; GET /openapi.json is generated
 * from it. Adding a route means adding an entry here and a handler file.
 */
import { z } from 'zod';
import { AuditPage, AuditQuery } from '../lambdas/schemas/audit.ts';
import {
  IfMatchHeader,
  PatientParams,
  PatientSearchQuery,
  PatientSearchResult,
  PortalRecord,
  PortalRecordChange,
} from '../lambdas/schemas/portal-record.ts';
import { Settings, SettingsChange } from '../lambdas/schemas/settings.ts';
import {
  Challenge,
  SignInRequest,
  StaffParams,
  StaffPermissions,
  StaffPermissionsChange,
  Tokens,
} from '../lambdas/schemas/staff.ts';

/** Who may call a route. `staff` includes admins. */
export type Caller = 'public' | 'staff' | 'admin' | 'patient' | 'lobby';

/**
 * What a route's function may touch. The stack turns each grant into IAM statements scoped to
 * one resource; a function gets nothing it is not granted here.
 */
export type Grant =
  | 'records:read' // GetItem/Query on the records table and its indexes
  | 'records:write' // + PutItem/UpdateItem/DeleteItem/ConditionCheckItem on the records table
  | 'audit:append' // PutItem on the audit table, never Update or Delete (security rule 19)
  | 'audit:read' // Query on the audit table
  | 'staffPool:read' // AdminGetUser on the staff pool
  | 'throttle:readwrite'; // GetItem/UpdateItem/DeleteItem on records-table items whose pk starts with THROTTLE#

export interface RouteRequest {
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly headers?: z.ZodType;
  readonly body?: z.ZodType;
}

export interface Route {
  /** Stable id: names the Lambda function and the handler. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path template, e.g. /patients/{patientId}/portal. */
  readonly path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly caller: Caller;
  readonly grants: readonly Grant[];
  readonly summary: string;
  readonly request: RouteRequest;
  /** Success answers by status code; error answers are problem+json and documented generically. */
  readonly responses: Readonly<Record<number, z.ZodType | null>>;
}

const route = <const R extends Route>(r: R): R => r;

export const routes = [
  route({
    id: 'health',
    method: 'GET',
    path: '/health',
    entry: 'lambdas/handlers/health/get.ts',
    caller: 'public',
    grants: [],
    summary: 'Liveness: 200 once the service answers',
    request: {},
    responses: { 200: z.object({ status: z.literal('ok') }) },
  }),
  route({
    id: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    entry: 'lambdas/handlers/openapi/get.ts',
    caller: 'public',
    grants: [],
    summary: 'This OpenAPI document, generated from the route table',
    request: {},
    responses: { 200: z.object({ openapi: z.string() }).loose() },
  }),
  route({
    id: 'staff-sign-in',
    method: 'POST',
    path: '/staff/sessions',
    entry: 'lambdas/handlers/staff-sessions/create.ts',
    caller: 'public',
    grants: ['throttle:readwrite', 'audit:append'],
    summary: 'Staff sign-in against the staff user pool (429 with Retry-After after repeated failures)',
    request: { body: SignInRequest },
    responses: { 200: z.union([Tokens, Challenge]) },
  }),
  route({
    id: 'patients-search',
    method: 'GET',
    path: '/patients',
    entry: 'lambdas/handlers/patients/search.ts',
    caller: 'staff',
    grants: ['records:read'],
    summary: 'List or search portal records by patientId prefix, email, username or masterCase',
    request: { query: PatientSearchQuery },
    responses: { 200: PatientSearchResult },
  }),
  route({
    id: 'portal-record-get',
    method: 'GET',
    path: '/patients/{patientId}/portal',
    entry: 'lambdas/handlers/portal-record/get.ts',
    caller: 'staff',
    grants: ['records:read'],
    summary: "Read a patient's portal record",
    request: { params: PatientParams },
    responses: { 200: PortalRecord },
  }),
  route({
    id: 'portal-record-put',
    method: 'PUT',
    path: '/patients/{patientId}/portal',
    entry: 'lambdas/handlers/portal-record/put.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append'],
    summary: "Create or edit a patient's portal record (If-Match: version for optimistic concurrency)",
    request: { params: PatientParams, headers: IfMatchHeader, body: PortalRecordChange },
    responses: { 200: PortalRecord },
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
    responses: { 200: AuditPage },
  }),
  route({
    id: 'settings-get',
    method: 'GET',
    path: '/settings',
    entry: 'lambdas/handlers/settings/get.ts',
    caller: 'staff',
    grants: ['records:read'],
    summary: 'Practice settings',
    request: {},
    responses: { 200: Settings },
  }),
  route({
    id: 'settings-put',
    method: 'PUT',
    path: '/settings',
    entry: 'lambdas/handlers/settings/put.ts',
    caller: 'admin',
    grants: ['records:write', 'audit:append'],
    summary: 'Change practice settings (any subset of the fields)',
    request: { body: SettingsChange },
    responses: { 200: Settings },
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
    responses: { 200: StaffPermissions },
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
    responses: { 200: StaffPermissions },
  }),
] as const satisfies readonly Route[];

export type RouteId = (typeof routes)[number]['id'];

export function routeById(id: RouteId): Route {
  const found = routes.find((r) => r.id === id);
  if (!found) throw new Error(`no route ${id}`);
  return found;
}
