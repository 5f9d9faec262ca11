import { recordStore, systemClock } from '../../adapters/deps.ts';
import { staffPool } from '../../adapters/staff-admin.ts';
import { createStaff } from '../../domain/staff-admin.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { staffAdminRoutes } from '../../../lib/routes/staff-admin.ts';

export const handler = defineHandler(staffAdminRoutes, 'staff-create', async ({ body, principal, sourceIp }) => ({
  status: 201,
  body: await createStaff({ store: recordStore(), pool: staffPool(), clock: systemClock }, { id: principal.staffId, sourceIp }, body),
}));
