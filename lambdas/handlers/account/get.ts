import { recordStore } from '../../adapters/deps.ts';
import { notFound } from '../../domain/errors.ts';
import { accountView } from '../../domain/patient-access.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('account-get', async ({ principal }) => {
  const record = await recordStore().getRecord(principal.patientId);
  if (!record) throw notFound('The account');
  return { status: 200, body: accountView(record) };
});
