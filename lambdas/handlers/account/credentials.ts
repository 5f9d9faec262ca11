import { mailer, patientDeps, settingsDefaults } from '../../adapters/deps.ts';
import { changeProxyLoginCredentials } from '../../domain/account.ts';
import { changeCredentials } from '../../domain/patient-access.ts';
import { defineHandler } from '../../http/patient-handler.ts';
import { accountRoutes } from '../../../lib/routes/account.ts';
import { proxyStore } from '../proxies/deps.ts';

export const handler = defineHandler(accountRoutes, 'account-credentials', async ({ body, principal, sourceIp, log }) => {
  // A proxy-only login (issue 18) has no record: its credentials live on its ACCOUNT# item.
  const { kind: _kind, ...tokens } = principal.patientId
    ? await changeCredentials({ ...patientDeps(), mailer: mailer(), settingsDefaults: settingsDefaults(), warn: (msg, fields) => log.warn(msg, fields) }, { ...principal, sourceIp }, body)
    : await changeProxyLoginCredentials({ ...patientDeps(), proxies: proxyStore() }, { accountId: principal.accountId, sourceIp }, body);
  return { status: 200, body: tokens };
});
