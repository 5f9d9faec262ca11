import { accountOverview } from '../../domain/account.ts';
import { defineHandler } from '../../http/handler.ts';
import { proxyDeps } from '../proxies/deps.ts';

export const handler = defineHandler('account-get', async ({ principal }) => {
  return { status: 200, body: await accountOverview(proxyDeps(), principal) };
});
