/**
 * Lobby tokens (routes marked "lobby"): the opaque token POST /lobby-sessions hands out, scope
 * "intake" only. Checked on every request against the stored session (by the token's hash), its
 * expiry on our clock, and the portal record (access disabled or revoked ends it at once).
 * Patient and staff routes never accept it: they verify Cognito JWTs, which it is not.
 */
import { recordStore, systemClock } from '../adapters/deps.ts';
import { dynamoLobby } from '../adapters/dynamo-lobby.ts';
import { checkLobbyToken, type LobbyStore } from '../domain/lobby.ts';
import { bearerToken } from './auth.ts';
import { unauthorized } from './problems.ts';

export interface LobbyPrincipal {
  kind: 'lobby';
  patientId: string;
  scope: 'intake';
  expiresAt: string;
  /** The session's key (the token's hash): what DELETE /lobby-sessions/current deletes. */
  tokenHash: string;
}

let lobby: LobbyStore | undefined;
export const lobbyStore = (): LobbyStore => (lobby ??= dynamoLobby());

export async function authenticateLobby(authorization: string | undefined): Promise<LobbyPrincipal> {
  const token = bearerToken(authorization);
  const grant = await checkLobbyToken({ store: recordStore(), lobby: lobbyStore(), clock: systemClock }, token);
  // Unknown, expired and revoked tokens get one answer.
  if (!grant) throw unauthorized('The lobby token is not valid or has expired. Ask the front desk for a new lobby password.');
  return { kind: 'lobby', ...grant };
}
