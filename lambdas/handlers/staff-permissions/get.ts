import { recordStore } from '../../adapters/deps.ts';
import { staffPool } from '../../adapters/staff-admin.ts';
import { readPermissions } from '../../domain/permissions.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { foundationRoutes } from '../../../lib/routes/foundation.ts';

export const handler = defineHandler(foundationRoutes, 'staff-permissions-get', async ({ params }) => {
  const permissions = await readPermissions({ store: recordStore(), pool: staffPool() }, params.staffId);
  return { status: 200, body: permissions };
});
