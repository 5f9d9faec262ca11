import { endProxy } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { proxyRoutes } from '../../../lib/routes/proxies.ts';
import { proxyDeps } from './deps.ts';

/** DELETE /patients/{patientId}/portal/proxies/{proxyId}: the proxy's next request for the record is refused (rule 32). */
export const handler = defineHandler(proxyRoutes, 'proxy-end', async ({ params, principal, sourceIp }) => {
  const ended = await endProxy(proxyDeps(), { id: principal.staffId, staff: principal, sourceIp }, params.patientId, params.proxyId, 'staff');
  return { status: 200, body: ended };
});
