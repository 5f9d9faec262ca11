import { accountStore, emailMatchStore, patientLogins, recordStore, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { confirmEmailMatch } from '../../domain/email-match.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { emailMatchRoutes } from '../../../lib/routes/email-match.ts';
import { tellPractice } from '../../adapters/practice-notices.ts';

export const handler = defineHandler(emailMatchRoutes, 'email-match-confirm', async ({ body, sourceIp, log }) => {
  const registered = await confirmEmailMatch(
    {
      store: recordStore(),
      matches: emailMatchStore(),
      accounts: accountStore(),
      logins: patientLogins(),
      throttle: signInThrottle(),
      clock: systemClock,
    },
    { ...body, sourceIp },
  );
  await tellPractice(log)('patient-registered');
  return { status: 201, body: registered };
});
