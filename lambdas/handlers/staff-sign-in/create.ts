import { recordStore, signInThrottle, staffChallenges, staffDirectory, systemClock } from '../../adapters/deps.ts';
import { config } from '../../config.ts';
import { signInStaff, type StaffSignInAnswer } from '../../domain/staff-sign-in.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { staffSignInRoutes } from '../../../lib/routes/staff-sign-in.ts';

export const staffSignInDeps = () => ({
  staff: staffDirectory(),
  challenges: staffChallenges(),
  throttle: signInThrottle(),
  store: recordStore(),
  clock: systemClock,
  issuer: config().PRACTICE_NAME,
});

/** Tokens, or the challenge with what the console needs for it (api.md). */
export function staffSignInBody(answer: StaffSignInAnswer) {
  if (answer.kind === 'challenge') {
    const { kind: _kind, ...challenge } = answer;
    return challenge;
  }
  const { kind: _kind, ...tokens } = answer;
  return tokens;
}

export const handler = defineHandler(staffSignInRoutes, 'staff-sign-in', async ({ body, callerContext }) => {
  const answer = await signInStaff(staffSignInDeps(), { username: body.username, password: body.password, context: callerContext });
  return { status: 200, body: staffSignInBody(answer) };
});
