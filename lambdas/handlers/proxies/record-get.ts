import { openRecord } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/patient-handler.ts';
import { proxyRoutes } from '../../../lib/routes/proxies.ts';
import { proxyDeps } from './deps.ts';

/** GET /account/records/{patientId}: may this login act on this record, now (rule 32)? Then the record as its role and scope allow. */
export const handler = defineHandler(proxyRoutes, 'account-record-get', async ({ params, principal, sourceIp }) => {
  return { status: 200, body: await openRecord(proxyDeps(), { accountId: principal.accountId, sourceIp }, params.patientId) };
});
