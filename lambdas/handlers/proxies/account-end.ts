import { endProxy, homeRecordOf } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/patient-handler.ts';
import { proxyRoutes } from '../../../lib/routes/proxies.ts';
import { proxyDeps } from './deps.ts';

/** DELETE /account/proxies/{proxyId}: the patient ends a proxy of their own record (404 for any other record's). */
export const handler = defineHandler(proxyRoutes, 'account-proxy-end', async ({ params, principal, sourceIp }) => {
  const patientId = homeRecordOf(principal);
  const ended = await endProxy(proxyDeps(), { id: `patient:${principal.accountId}`, sourceIp }, patientId, params.proxyId, 'patient');
  return { status: 200, body: ended };
});
