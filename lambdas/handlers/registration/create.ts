import {
  accountStore,
  patientLogins,
  pinVault,
  recordStore,
  settingsDefaults,
  signInThrottle,
  systemClock,
} from '../../adapters/deps.ts';
import { register } from '../../domain/registration.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { tellPractice } from '../../adapters/practice-notices.ts';
import { invitationLinks } from '../invitations/deps.ts';

export const handler = defineHandler('registration-create', async ({ body, sourceIp, log }) => {
  const registered = await register(
    {
      store: recordStore(),
      invitations: invitationLinks(),
      accounts: accountStore(),
      logins: patientLogins(),
      vault: pinVault(),
      throttle: signInThrottle(),
      clock: systemClock,
      settingsDefaults: settingsDefaults(),
    },
    { ...body, sourceIp },
  );
  await tellPractice(log)('patient-registered');
  return { status: 201, body: registered };
});
