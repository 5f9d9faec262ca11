import { emailMatchStore, mailer, recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { requestEmailMatch } from '../../domain/email-match.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { emailMatchRoutes } from '../../../lib/routes/email-match.ts';

export const handler = defineHandler(emailMatchRoutes, 'email-match-request', async ({ body, sourceIp, log }) => {
  const accepted = await requestEmailMatch(
    {
      store: recordStore(),
      matches: emailMatchStore(),
      throttle: signInThrottle(),
      mailer: mailer(),
      clock: systemClock,
      settingsDefaults: settingsDefaults(),
      warn: (msg, fields) => log.warn(msg, fields),
    },
    { email: body.email, sourceIp },
  );
  return { status: 202, body: accepted };
});
