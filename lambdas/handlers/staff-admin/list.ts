import { recordStore } from '../../adapters/deps.ts';
import { staffPool } from '../../adapters/staff-admin.ts';
import { listStaff } from '../../domain/staff-admin.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { staffAdminRoutes } from '../../../lib/routes/staff-admin.ts';

export const handler = defineHandler(staffAdminRoutes, 'staff-list', async () => ({
  status: 200,
  body: await listStaff({ store: recordStore(), pool: staffPool() }),
}));
