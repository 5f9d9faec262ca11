import {
  accountStore,
  patientLogins,
  pinVault,
  recordStore,
  settingsDefaults,
  signInThrottle,
  systemClock,
} from '../../adapters/deps.ts';
import { isProxyToken, registerWithProxyLink } from '../../domain/proxies.ts';
import { linkGone, register } from '../../domain/registration.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { registrationRoutes } from '../../../lib/routes/registration.ts';
import { tellPractice } from '../../adapters/practice-notices.ts';
import { invitationLinks } from '../invitations/deps.ts';
import { configuredPhoneCodeKey } from '../../adapters/phone-codes.ts';

/** Issue 17: the keyed hash of phone codes, where the deployment has one. */
const phoneCodeKeyDep = () => {
  const key = configuredPhoneCodeKey();
  return key ? { phoneCodeKey: key } : {};
};

import { proxyStore } from '../proxies/deps.ts';

export const handler = defineHandler(registrationRoutes, 'registration-create', async ({ body, sourceIp, log }) => {
  // A proxy invitation's token (issue 18) names its own flow: a new login, or `existingLogin`.
  if (isProxyToken(body.token)) {
    const { existingLogin, username, password, ...rest } = body;
    const registered = await registerWithProxyLink(
      { store: recordStore(), proxies: proxyStore(), accounts: accountStore(), logins: patientLogins(), throttle: signInThrottle(), clock: systemClock, settingsDefaults: settingsDefaults() },
      { ...rest, pin: rest.pin ?? '', sourceIp, ...(existingLogin ? { existingLogin } : { username: username!, password: password! }) },
    );
    return { status: 201, body: registered };
  }
  const { existingLogin, username, password, ...rest } = body;
  // A patient invitation makes the patient's own login: `existingLogin` is only for a proxy invitation's.
  if (existingLogin || username === undefined || password === undefined) throw linkGone();
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
      notify: tellPractice(log),
    },
    { ...rest, username, password, sourceIp },
  );
  return { status: 201, body: registered };
});
