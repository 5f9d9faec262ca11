import { staffPool } from '../../adapters/staff-admin.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { staffAdminRoutes } from '../../../lib/routes/staff-admin.ts';

export const handler = defineHandler(staffAdminRoutes, 'staff-me', async ({ principal }) => {
  // Role and permissions came with the token check (the caller's own staff record, this request).
  const user = await staffPool().find(principal.staffId);
  return {
    status: 200,
    body: { username: principal.staffId, roles: principal.roles, permissions: principal.permissions, mfaEnrolled: user?.mfaEnrolled ?? false },
  };
});
