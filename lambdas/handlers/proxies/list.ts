import { listProxies } from '../../domain/proxies.ts';
import { defineHandler } from '../../http/handler.ts';
import { proxyDeps } from './deps.ts';

export const handler = defineHandler('proxy-list', async ({ params }) => {
  return { status: 200, body: await listProxies(proxyDeps(), params.patientId, { requireRecord: true }) };
});
