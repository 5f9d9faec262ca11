import { recordStore, staffDirectory } from '../../adapters/deps.ts';
import { readPermissions } from '../../domain/permissions.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('staff-permissions-get', async ({ params }) => {
  const permissions = await readPermissions({ store: recordStore(), staff: staffDirectory() }, params.staffId);
  return { status: 200, body: permissions };
});
