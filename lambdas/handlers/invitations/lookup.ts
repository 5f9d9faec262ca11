import { recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { checkInvitation } from '../../domain/registration.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { invitationLinks } from './deps.ts';
import { smsAvailability } from '../../adapters/sms-sender.ts';

/** POST /invitations/lookup: the link's token comes in the body, never in the URL (rule 26). */
export const handler = defineHandler('invitation-lookup', async ({ body, sourceIp }) => {
  const found = await checkInvitation(
    { store: recordStore(), invitations: invitationLinks(), throttle: signInThrottle(), clock: systemClock, settingsDefaults: settingsDefaults(), sms: smsAvailability() },
    body.token,
    sourceIp,
  );
  return { status: 200, body: found };
});
