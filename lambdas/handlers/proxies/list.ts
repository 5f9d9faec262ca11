import { listProxies } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { proxyRoutes } from '../../../lib/routes/proxies.ts';
import { proxyDeps } from './deps.ts';

export const handler = defineHandler(proxyRoutes, 'proxy-list', async ({ params }) => {
  return { status: 200, body: await listProxies(proxyDeps(), params.patientId, { requireRecord: true }) };
});
