import { mailer, patientDeps, settingsDefaults } from '../../adapters/deps.ts';
import { changeCredentials } from '../../domain/patient-access.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('account-credentials', async ({ body, principal, sourceIp, log }) => {
  const { kind: _kind, ...tokens } = await changeCredentials({ ...patientDeps(), mailer: mailer(), settingsDefaults: settingsDefaults(), warn: (msg, fields) => log.warn(msg, fields) }, { ...principal, sourceIp }, body);
  return { status: 200, body: tokens };
});
