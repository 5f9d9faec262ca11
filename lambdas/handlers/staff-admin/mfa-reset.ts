import { recordStore, systemClock } from '../../adapters/deps.ts';
import { staffPool } from '../../adapters/staff-admin.ts';
import { resetStaffMfa } from '../../domain/staff-admin.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { staffAdminRoutes } from '../../../lib/routes/staff-admin.ts';

export const handler = defineHandler(staffAdminRoutes, 'staff-mfa-reset', async ({ params, principal, sourceIp }) => ({
  status: 200,
  body: await resetStaffMfa({ store: recordStore(), pool: staffPool(), clock: systemClock }, { id: principal.staffId, sub: principal.sub, sourceIp }, params.staffId),
}));
