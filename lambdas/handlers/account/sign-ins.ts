import { accountSignIns } from '../../domain/account.ts';
import { defineHandler } from '../../http/patient-handler.ts';
import { accountRoutes } from '../../../lib/routes/account.ts';
import { proxyDeps } from '../proxies/deps.ts';

export const handler = defineHandler(accountRoutes, 'account-sign-ins', async ({ principal }) => {
  return { status: 200, body: { items: await accountSignIns(proxyDeps(), principal) } };
});
