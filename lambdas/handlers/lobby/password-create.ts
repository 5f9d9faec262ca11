import { recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { issueLobbyPassword } from '../../domain/lobby.ts';
import { lobbySecrets } from '../../adapters/lobby-key.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { lobbyRoutes } from '../../../lib/routes/lobby.ts';
import { lobbyStore } from '../../http/lobby-auth.ts';

export const handler = defineHandler(lobbyRoutes, 'lobby-password-create', async ({ params, principal, sourceIp }) => {
  const issued = await issueLobbyPassword(
    {
      store: recordStore(),
      lobby: lobbyStore(),
      throttle: signInThrottle(),
      clock: systemClock,
      secrets: lobbySecrets(),
      defaults: settingsDefaults(),
    },
    { id: principal.staffId, sourceIp },
    params.patientId,
  );
  return { status: 201, body: issued };
});
