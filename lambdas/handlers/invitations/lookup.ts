import { recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { checkProxyInvitation, isProxyToken } from '../../domain/proxies.ts';
import { checkInvitation } from '../../domain/registration.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { invitationRoutes } from '../../../lib/routes/invitations.ts';
import { proxyStore } from '../proxies/deps.ts';
import { invitationLinks } from './deps.ts';
import { smsAvailability } from '../../adapters/sms-sender.ts';

/** POST /invitations/lookup: the link's token comes in the body, never in the URL (rule 26). */
export const handler = defineHandler(invitationRoutes, 'invitation-lookup', async ({ body, sourceIp }) => {
  const deps = { store: recordStore(), throttle: signInThrottle(), clock: systemClock, settingsDefaults: settingsDefaults() };
  // A proxy invitation's token (issue 18) answers kind "proxy" (and whether it joins the record as "self").
  const found = isProxyToken(body.token)
    ? await checkProxyInvitation({ ...deps, proxies: proxyStore() }, body.token, sourceIp)
    : await checkInvitation({ ...deps, invitations: invitationLinks(), sms: smsAvailability() }, body.token, sourceIp);
  return { status: 200, body: found };
});
