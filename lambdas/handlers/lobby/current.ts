import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('lobby-session-current', async ({ principal }) => ({
  status: 200,
  body: { patientId: principal.patientId, scope: principal.scope, expiresAt: principal.expiresAt },
}));
