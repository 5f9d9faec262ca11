import { recordStore, systemClock } from '../../adapters/deps.ts';
import { staffPool } from '../../adapters/staff-admin.ts';
import { changeStaff } from '../../domain/staff-admin.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { staffAdminRoutes } from '../../../lib/routes/staff-admin.ts';

export const handler = defineHandler(staffAdminRoutes, 'staff-update', async ({ params, body, principal, sourceIp }) => ({
  status: 200,
  body: await changeStaff(
    { store: recordStore(), pool: staffPool(), clock: systemClock },
    { id: principal.staffId, sub: principal.sub, sourceIp },
    params.staffId,
    body,
  ),
}));
