import { staffDirectory } from '../../adapters/deps.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('staff-sign-in', async ({ body, log }) => {
  const result = await staffDirectory().signIn(body.username, body.password);
  log.info('staff sign-in', { outcome: result.kind });
  if (result.kind === 'challenge') return { status: 200, body: { challenge: result.challenge, session: result.session } };
  const { kind: _kind, ...tokens } = result;
  return { status: 200, body: tokens };
});
