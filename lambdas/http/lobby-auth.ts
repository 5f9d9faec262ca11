/** Lobby tokens (routes marked "lobby"): scope "intake" only. Written with lobby mode. */
import { unauthorized } from './problems.ts';

export interface LobbyPrincipal {
  kind: 'lobby';
  patientId: string;
  scope: 'intake';
  expiresAt: string;
}

export async function authenticateLobby(_authorization: string | undefined): Promise<LobbyPrincipal> {
  throw unauthorized();
}
