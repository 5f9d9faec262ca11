import { forcedChangeJobStore, recordStore, systemClock } from '../../adapters/deps.ts';
import { forceCredentialChange } from '../../domain/forced-change.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { resetRoutes } from '../../../lib/routes/resets.ts';

export const handler = defineHandler(resetRoutes, 'forced-credential-change', async ({ principal, sourceIp, log }) => {
  const result = await forceCredentialChange({ store: recordStore(), jobs: forcedChangeJobStore(), clock: systemClock }, { id: principal.staffId, sourceIp });
  log.info('forced credential change', { count: result.count, complete: result.complete });
  return { status: 202, body: result };
});
