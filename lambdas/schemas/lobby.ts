/** Lobby mode: shapes of the lobby-password and lobby-session routes. */
import { z } from 'zod';
import { IsoDateTime, PatientId } from './common.ts';

/** What a lobby token may do: intake paperwork only, never patient data (security rule 12). */
export const LobbyScope = z.literal('intake');

/** POST /patients/{patientId}/portal/lobby-password → 201. */
export const LobbyPasswordIssued = z
  .object({
    lobbyPassword: z.string().meta({ description: 'Shown once; only a hash is kept', example: 'K7MXQ-4RT9W' }),
    expiresAt: IsoDateTime,
    masterCase: z.string().meta({ description: 'What the patient types as "Case number": the record\'s masterCase, or its patientId where it has none' }),
  })
  .meta({ id: 'LobbyPasswordIssued' });
export type LobbyPasswordIssued = z.infer<typeof LobbyPasswordIssued>;

/** POST /lobby-sessions. */
export const LobbySignInRequest = z
  .strictObject({
    // A case number or a patientId: both are 1..64 of [A-Za-z0-9._-] (see portal-record.ts).
    masterCase: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"'),
    // Checked loosely here (any case, with or without the dash or spaces); a malformed one is
    // simply a wrong password, counted by the throttle like any other.
    lobbyPassword: z.string().min(1).max(64),
    idempotencyKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be 16 to 128 letters, digits, "_" or "-"')
      .optional()
      .meta({
        description:
          'A random key the device makes for this sign-in (e.g. a UUID) and sends again when it retries after a lost answer: the same key with the same case number and password gets the session again (under a new token that replaces the undelivered one) instead of 401. Kept only as a hash beside the session; expires with it.',
      }),
  })
  .meta({ id: 'LobbySignInRequest' });
export type LobbySignInRequest = z.infer<typeof LobbySignInRequest>;

export const LobbySession = z
  .object({
    lobbyToken: z.string().meta({ description: 'Bearer token for the (lobby) routes; works until expiresAt or a revoke' }),
    expiresAt: IsoDateTime,
    scope: LobbyScope,
    patientId: PatientId,
  })
  .meta({ id: 'LobbySession' });
export type LobbySession = z.infer<typeof LobbySession>;

/** GET /lobby-sessions/current → 200. */
export const CurrentLobbySession = z
  .object({ patientId: PatientId, scope: LobbyScope, expiresAt: IsoDateTime })
  .meta({ id: 'CurrentLobbySession' });
export type CurrentLobbySession = z.infer<typeof CurrentLobbySession>;
