import { inviteProxy } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { proxyRoutes } from '../../../lib/routes/proxies.ts';
import { proxyDeps } from './deps.ts';

/** POST /patients/{patientId}/portal/proxies: staff with invite permission invite a proxy. */
export const handler = defineHandler(proxyRoutes, 'proxy-invite', async ({ params, body, principal, sourceIp, log }) => {
  const invited = await inviteProxy(proxyDeps(log), { kind: 'staff', actor: { id: principal.staffId, staff: principal, sourceIp } }, params.patientId, body);
  return { status: 201, body: invited };
});
