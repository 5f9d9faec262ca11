import { recordStore } from '../../adapters/deps.ts';
import { patientTarget } from '../../domain/audit.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { foundationRoutes } from '../../../lib/routes/foundation.ts';

export const handler = defineHandler(foundationRoutes, 'portal-audit-list', async ({ params, query }) => {
  const page = await recordStore().listAudit(patientTarget(params.patientId), query.cursor, query.limit);
  const items = page.items.map(({ at, actor, action, outcome, sourceIp, detail }) => ({ at, actor, action, detail: { ...detail, outcome, sourceIp } }));
  return { status: 200, body: { items, ...(page.cursor ? { cursor: page.cursor } : {}) } };
});
