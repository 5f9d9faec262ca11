import { defineHandler } from '../../http/lobby-handler.ts';
import { lobbyRoutes } from '../../../lib/routes/lobby.ts';

export const handler = defineHandler(lobbyRoutes, 'lobby-session-current', async ({ principal }) => ({
  status: 200,
  body: { patientId: principal.patientId, scope: principal.scope, expiresAt: principal.expiresAt },
}));
