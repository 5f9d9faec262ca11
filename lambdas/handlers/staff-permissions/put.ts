import { recordStore, systemClock } from '../../adapters/deps.ts';
import { staffPool } from '../../adapters/staff-admin.ts';
import { changePermissions } from '../../domain/permissions.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { foundationRoutes } from '../../../lib/routes/foundation.ts';

export const handler = defineHandler(foundationRoutes, 'staff-permissions-put', async ({ params, body, principal, sourceIp }) => {
  const permissions = await changePermissions(
    { store: recordStore(), pool: staffPool(), clock: systemClock },
    { id: principal.staffId, sourceIp },
    params.staffId,
    body,
  );
  return { status: 200, body: permissions };
});
