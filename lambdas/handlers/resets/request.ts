import { requestReset, resetRequestedMessage, RESET_REQUEST_FLOOR_MS } from '../../domain/resets.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { resetRequestDeps } from './deps.ts';

/**
 * Waits until the next multiple of `floorMs` after `started` (real time, not the test clock): a
 * request whose work overran the floor (a cold start, a slow backend) still answers on the same
 * grid as any other, so even the slow tail says nothing about which path it took.
 */
const padTo = async (started: number, floorMs: number) => {
  const elapsed = performance.now() - started;
  const left = Math.max(1, Math.ceil(elapsed / floorMs)) * floorMs - elapsed;
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
};

export const handler = defineHandler('reset-request', async ({ body, sourceIp, log }) => {
  const started = performance.now();
  // Rule 13: the same answer, after at least the same time, whether or not anything was sent.
  await requestReset(resetRequestDeps(log), { username: body.username, sourceIp });
  // How close the work came to the floor (no outcome in it): worth an alarm if it nears the floor.
  log.info('reset request work', { workMs: Math.round(performance.now() - started), floorMs: RESET_REQUEST_FLOOR_MS });
  await padTo(started, RESET_REQUEST_FLOOR_MS);
  return { status: 202, body: { message: resetRequestedMessage } };
});
