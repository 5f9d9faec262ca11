import { systemClock } from '../../adapters/deps.ts';
import { endLobbySession } from '../../domain/lobby.ts';
import { defineHandler } from '../../http/lobby-handler.ts';
import { lobbyRoutes } from '../../../lib/routes/lobby.ts';
import { lobbyStore } from '../../http/lobby-auth.ts';

/** DELETE /lobby-sessions/current: the kiosk's End ends the session on the server, not only on the screen. */
export const handler = defineHandler(lobbyRoutes, 'lobby-session-end', async ({ principal, sourceIp }) => {
  await endLobbySession({ lobby: lobbyStore(), clock: systemClock }, principal, sourceIp);
  return { status: 204 };
});
