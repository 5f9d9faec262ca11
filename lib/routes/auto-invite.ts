/** Auto-invite on a signed note (domain: lambdas/domain/auto-invite.ts): an invitation, so it gets the invite function's grants, the PIN seal included. */
import { NoteSigned } from '../../lambdas/schemas/email-match.ts';
import { route, schemaOf, type Route } from './types.ts';

export const autoInviteRoutes = [
  route({
    id: 'note-signed',
    method: 'POST',
    path: '/events/note-signed',
    entry: 'lambdas/handlers/auto-invite/note-signed.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'pinKey:encrypt', 'mail:send'],
    summary:
      'Auto-invite on a signed note: invites (as POST …/invitation, the signer as actor, the PIN not answered) when settings.autoInvite is on, the signer has autoInvite and canInvite, and the record has an email, no login and no pending invitation; else invited: false with the reason',
    request: { body: NoteSigned },
    responses: { 202: schemaOf('email-match', 'AutoInviteResult') },
  }),
] as const satisfies readonly Route[];
