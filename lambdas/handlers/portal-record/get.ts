import { recordStore, systemClock } from '../../adapters/deps.ts';
import { readRecord } from '../../domain/portal-record.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { portalRecordRoutes } from '../../../lib/routes/portal-record.ts';

export const handler = defineHandler(portalRecordRoutes, 'portal-record-get', async ({ params }) => {
  const record = await readRecord({ store: recordStore(), clock: systemClock }, params.patientId);
  return { status: 200, body: record, headers: { etag: `"${record.version}"` } };
});
