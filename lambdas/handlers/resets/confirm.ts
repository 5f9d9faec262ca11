import { confirmReset } from '../../domain/resets.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { resetRoutes } from '../../../lib/routes/resets.ts';
import { resetConfirmDeps } from './deps.ts';

export const handler = defineHandler(resetRoutes, 'reset-confirm', async ({ body, sourceIp, log }) => {
  // No tokens in the answer (rule 15): the patient signs in with the new password.
  const confirmed = await confirmReset(resetConfirmDeps(log), { ...body, sourceIp });
  return { status: 200, body: confirmed };
});
