import { recordStore, systemClock } from '../../adapters/deps.ts';
import { searchRecords } from '../../domain/portal-record.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { foundationRoutes } from '../../../lib/routes/foundation.ts';

export const handler = defineHandler(foundationRoutes, 'patients-search', async ({ query }) => {
  const page = await searchRecords({ store: recordStore(), clock: systemClock }, query.query, query.cursor, query.limit, query.registeredSince);
  return { status: 200, body: page };
});
