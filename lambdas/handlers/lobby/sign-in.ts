import { recordStore, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { signInToLobby } from '../../domain/lobby.ts';
import { lobbySecrets } from '../../adapters/lobby-key.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { lobbyRoutes } from '../../../lib/routes/lobby.ts';
import { lobbyStore } from '../../http/lobby-auth.ts';

export const handler = defineHandler(lobbyRoutes, 'lobby-sign-in', async ({ body, sourceIp }) => {
  const session = await signInToLobby(
    { store: recordStore(), lobby: lobbyStore(), throttle: signInThrottle(), clock: systemClock, secrets: lobbySecrets() },
    { masterCase: body.masterCase, lobbyPassword: body.lobbyPassword, sourceIp, ...(body.idempotencyKey ? { idempotencyKey: body.idempotencyKey } : {}) },
  );
  return { status: 200, body: session };
});
