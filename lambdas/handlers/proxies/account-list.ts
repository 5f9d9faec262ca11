import { homeRecordOf, listProxies } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/patient-handler.ts';
import { proxyRoutes } from '../../../lib/routes/proxies.ts';
import { proxyDeps } from './deps.ts';

/** GET /account/proxies: who can act for the signed-in patient (their own record only). */
export const handler = defineHandler(proxyRoutes, 'account-proxies-list', async ({ principal }) => {
  return { status: 200, body: await listProxies(proxyDeps(), homeRecordOf(principal), { requireRecord: false }) };
});
