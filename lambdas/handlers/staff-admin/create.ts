import { recordStore, systemClock } from '../../adapters/deps.ts';
import { staffPool } from '../../adapters/staff-admin.ts';
import { createStaff } from '../../domain/staff-admin.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('staff-create', async ({ body, principal, sourceIp }) => ({
  status: 201,
  body: await createStaff({ store: recordStore(), pool: staffPool(), clock: systemClock }, { id: principal.staffId, sourceIp }, body),
}));
