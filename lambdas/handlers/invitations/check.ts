import { invitationStore, recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { checkInvitation } from '../../domain/registration.ts';
import { defineHandler } from '../../http/public-handler.ts';

export const handler = defineHandler('invitation-check', async ({ params, sourceIp }) => {
  const check = await checkInvitation(
    { store: recordStore(), invitations: invitationStore(), throttle: signInThrottle(), clock: systemClock, settingsDefaults: settingsDefaults() },
    params.token,
    sourceIp,
  );
  return { status: 200, body: check };
});
