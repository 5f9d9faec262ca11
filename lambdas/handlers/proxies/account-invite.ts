import { homeRecordOf, inviteProxy } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/patient-handler.ts';
import { proxyRoutes } from '../../../lib/routes/proxies.ts';
import { proxyDeps } from './deps.ts';

/** POST /account/proxies: the patient invites a proxy for their own record; the PIN is answered to them. */
export const handler = defineHandler(proxyRoutes, 'account-proxy-invite', async ({ body, principal, sourceIp, log }) => {
  const patientId = homeRecordOf(principal);
  const invited = await inviteProxy(proxyDeps(log), { kind: 'patient', actor: { id: `patient:${principal.accountId}`, sourceIp } }, patientId, body);
  return { status: 201, body: invited };
});
