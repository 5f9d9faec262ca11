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
import { configuredPhoneCodeKey } from '../../adapters/phone-codes.ts';

/** Issue 17: the keyed hash of phone codes, where the deployment has one. */
const phoneCodeKeyDep = () => {
  const key = configuredPhoneCodeKey();
  return key ? { phoneCodeKey: key } : {};
};

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
      ...phoneCodeKeyDep(),
    },
    { ...body, sourceIp },
  );
  await tellPractice(log)('patient-registered');
  return { status: 201, body: registered };
});
