import { recordStore, signInThrottle, staffDirectory, systemClock } from '../../adapters/deps.ts';
import { signInStaff } from '../../domain/staff-sign-in.ts';
import { defineHandler } from '../../http/public-handler.ts';

export const handler = defineHandler('staff-sign-in', async ({ body, sourceIp }) => {
  const result = await signInStaff(
    { staff: staffDirectory(), throttle: signInThrottle(), store: recordStore(), clock: systemClock },
    { username: body.username, password: body.password, sourceIp },
  );
  if (result.kind === 'challenge') return { status: 200, body: { challenge: result.challenge, session: result.session } };
  const { kind: _kind, ...tokens } = result;
  return { status: 200, body: tokens };
});
