import { realTime, withEqualTime } from '../../domain/equal-time.ts';
import { requestReset, resetRequestedMessage, RESET_REQUEST_FLOOR_MS } from '../../domain/resets.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { resetRoutes } from '../../../lib/routes/resets.ts';
import { resetRequestDeps } from './deps.ts';

export const handler = defineHandler(resetRoutes, 'reset-request', async ({ body, sourceIp, log }) => {
  // Rule 13: the same answer, after at least the same time, whether or not anything was sent.
  await withEqualTime(realTime(RESET_REQUEST_FLOOR_MS, { grid: true }), () => requestReset(resetRequestDeps(log), { username: body.username, sourceIp }), ({ workMs, floorMs }) =>
    // How close the work came to the floor (no outcome in it): worth an alarm if it nears the floor.
    log.info('reset request work', { workMs, floorMs }),
  );
  return { status: 202, body: { message: resetRequestedMessage } };
});
