import { accountSignIns } from '../../domain/account.ts';
import { defineHandler } from '../../http/handler.ts';
import { proxyDeps } from '../proxies/deps.ts';

export const handler = defineHandler('account-sign-ins', async ({ principal }) => {
  return { status: 200, body: { items: await accountSignIns(proxyDeps(), principal) } };
});
