import { recordStore } from '../../adapters/deps.ts';
import { recentSignIns } from '../../domain/recent-sign-ins.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('account-sign-ins', async ({ principal }) => {
  return { status: 200, body: { items: await recentSignIns({ store: recordStore() }, principal.patientId) } };
});
