import { staffReset } from '../../domain/resets.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { resetRoutes } from '../../../lib/routes/resets.ts';
import { resetRequestDeps } from './deps.ts';

export const handler = defineHandler(resetRoutes, 'staff-reset', async ({ params, principal, sourceIp, log }) => {
  const sent = await staffReset(resetRequestDeps(log), { id: principal.staffId, sourceIp }, params.patientId);
  return { status: 202, body: sent };
});
