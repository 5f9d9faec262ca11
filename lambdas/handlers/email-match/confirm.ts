import { accountStore, emailMatchStore, patientLogins, recordStore, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { confirmEmailMatch } from '../../domain/email-match.ts';
import { defineHandler } from '../../http/public-handler.ts';

export const handler = defineHandler('email-match-confirm', async ({ body, sourceIp }) => {
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
  return { status: 201, body: registered };
});
