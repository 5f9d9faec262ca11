/** Lobby mode: staff issue a one-session lobby password; the patient trades it for an intake-only lobby token. */
import { PatientParams } from '../../lambdas/schemas/portal-record.ts';
import { LobbySignInRequest } from '../../lambdas/schemas/lobby.ts';
import { route, schemaOf, type Route } from './types.ts';

export const lobbyRoutes = [
  route({
    id: 'lobby-password-create',
    method: 'POST',
    path: '/patients/{patientId}/portal/lobby-password',
    entry: 'lambdas/handlers/lobby/password-create.ts',
    caller: 'staff',
    // records:read for the record and settings; throttle:readwrite to clear the case number's lobby guessing counter.
    grants: ['records:read', 'lobby:issue', 'audit:append', 'throttle:readwrite', 'lobbyKey:mac'],
    summary:
      'A lobby password for intake paperwork, valid settings.lobbyMinutes and one session; replaces any earlier one (409 when access is disabled, 404 without a record)',
    request: { params: PatientParams },
    responses: { 201: schemaOf('lobby', 'LobbyPasswordIssued') },
    problems: [409],
  }),
  route({
    id: 'lobby-sign-in',
    method: 'POST',
    path: '/lobby-sessions',
    entry: 'lambdas/handlers/lobby/sign-in.ts',
    caller: 'public',
    // lobby:session and lobby:end: a retry with the same idempotency key reads the session and replaces it.
    grants: ['records:read', 'lobby:redeem', 'lobby:session', 'lobby:end', 'audit:append', 'throttle:readwrite', 'lobbyKey:mac'],
    summary:
      'Trade a case number and lobby password for a lobby token of scope "intake" (one session per password; 401 for any refusal, 429 with Retry-After after repeated failures; a retry with the same idempotencyKey gets the session again)',
    request: { body: LobbySignInRequest },
    responses: { 200: schemaOf('lobby', 'LobbySession') },
    problems: [401],
  }),
  route({
    id: 'lobby-session-current',
    method: 'GET',
    path: '/lobby-sessions/current',
    entry: 'lambdas/handlers/lobby/current.ts',
    caller: 'lobby',
    grants: ['lobby:session'],
    summary: 'The lobby session of the token (401 once it has expired or access was revoked)',
    request: {},
    responses: { 200: schemaOf('lobby', 'CurrentLobbySession') },
  }),
  route({
    id: 'lobby-session-end',
    method: 'DELETE',
    path: '/lobby-sessions/current',
    entry: 'lambdas/handlers/lobby/end.ts',
    caller: 'lobby',
    grants: ['lobby:session', 'lobby:end', 'audit:append'],
    summary: "End the lobby session of the token (the kiosk's End): 204, and the token opens nothing any more (a repeat is 401 like any dead token)",
    request: {},
    responses: { 204: null },
  }),
] as const satisfies readonly Route[];
