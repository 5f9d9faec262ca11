/** Staff administration (issue 12 item 3): who am I, the staff list, new logins, enable/disable/role, MFA reset. */
import { StaffParams } from '../../lambdas/schemas/staff.ts';
import { StaffChange, StaffCreate } from '../../lambdas/schemas/staff-admin.ts';
import { route, schemaOf, type Route } from './types.ts';

export const staffAdminRoutes = [
  route({
    id: 'staff-me',
    method: 'GET',
    path: '/staff/me',
    entry: 'lambdas/handlers/staff-admin/me.ts',
    caller: 'staff',
    // Role and permissions come with the checked token (staff:session); the pool says whether TOTP is enrolled.
    grants: ['staffPool:read'],
    summary: 'Who am I: username, roles, permissions and whether an authenticator is enrolled',
    request: {},
    responses: { 200: schemaOf('staff-admin', 'StaffMe') },
  }),
  route({
    id: 'staff-list',
    method: 'GET',
    path: '/staff',
    entry: 'lambdas/handlers/staff-admin/list.ts',
    caller: 'admin',
    grants: ['records:read', 'staffPool:list'],
    summary: 'The staff users, with role, state, authenticator and permissions',
    request: {},
    responses: { 200: schemaOf('staff-admin', 'StaffList') },
  }),
  route({
    id: 'staff-create',
    method: 'POST',
    path: '/staff',
    entry: 'lambdas/handlers/staff-admin/create.ts',
    caller: 'admin',
    grants: ['records:write', 'audit:append', 'staffPool:admin'],
    summary: 'A new staff login with a temporary password, answered once and never emailed (409 when the name is taken)',
    request: { body: StaffCreate },
    responses: { 201: schemaOf('staff-admin', 'StaffCreated') },
    problems: [409],
  }),
  route({
    id: 'staff-update',
    method: 'PUT',
    path: '/staff/{staffId}',
    entry: 'lambdas/handlers/staff-admin/update.ts',
    caller: 'admin',
    grants: ['records:write', 'audit:append', 'staffPool:admin'],
    summary: "Enable or disable a staff user, or change their role; disabling refuses that user's tokens on their next request",
    request: { params: StaffParams, body: StaffChange },
    responses: { 200: schemaOf('staff-admin', 'StaffUser') },
  }),
  route({
    id: 'staff-mfa-reset',
    method: 'POST',
    path: '/staff/{staffId}/mfa-reset',
    entry: 'lambdas/handlers/staff-admin/mfa-reset.ts',
    caller: 'admin',
    grants: ['records:write', 'audit:append', 'staffPool:admin'],
    summary: 'A lost authenticator: the user enrols a new one at their next sign-in; their sessions end',
    request: { params: StaffParams },
    responses: { 200: schemaOf('staff-admin', 'StaffUser') },
  }),
] as const satisfies readonly Route[];
