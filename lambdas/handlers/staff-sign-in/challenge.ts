import { answerStaffChallenge } from '../../domain/staff-sign-in.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { staffSignInRoutes } from '../../../lib/routes/staff-sign-in.ts';
import { staffSignInBody, staffSignInDeps } from './create.ts';

export const handler = defineHandler(staffSignInRoutes, 'staff-sign-in-challenge', async ({ body, callerContext }) => {
  const answer = await answerStaffChallenge(staffSignInDeps(), body, callerContext);
  return { status: 200, body: staffSignInBody(answer) };
});
