/** Lobby mode: shapes of the lobby-password and lobby-session routes. */
import * as z from 'zod/mini';
import { IsoDateTime, PatientId } from './common.ts';

/** What a lobby token may do: intake paperwork only, never patient data (security rule 12). */
export const LobbyScope = /* @__PURE__ */ (() => z.literal('intake'))();

/** POST /patients/{patientId}/portal/lobby-password → 201. */
export const LobbyPasswordIssued = /* @__PURE__ */ (() => z
  .object({
    lobbyPassword: z.string().check(z.meta({ description: 'Shown once; only a hash is kept', example: 'K7MXQ-4RT9W' })),
    expiresAt: IsoDateTime,
    masterCase: z.string().check(z.meta({ description: 'What the patient types as "Case number": the record\'s masterCase, or its patientId where it has none' })),
  })
  .check(z.meta({ id: 'LobbyPasswordIssued' })))();
export type LobbyPasswordIssued = z.infer<typeof LobbyPasswordIssued>;

/** POST /lobby-sessions. */
export const LobbySignInRequest = /* @__PURE__ */ (() => z
  .strictObject({
    // A case number or a patientId: both are 1..64 of [A-Za-z0-9._-] (see portal-record.ts).
    masterCase: z
      .string()
      .check(z.trim(), z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"')),
    // Checked loosely here (any case, with or without the dash or spaces); a malformed one is
    // simply a wrong password, counted by the throttle like any other.
    lobbyPassword: z.string().check(z.minLength(1), z.maxLength(64)),
    idempotencyKey: z
      .optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be 16 to 128 letters, digits, "_" or "-"')))
      .check(
        z.meta({
          description:
            'A random key the device makes for this sign-in (e.g. a UUID) and sends again when it retries after a lost answer: the same key with the same case number and password gets the session again (under a new token that replaces the undelivered one) instead of 401. Kept only as a hash beside the session; expires with it.',
        }),
      ),
  })
  .check(z.meta({ id: 'LobbySignInRequest' })))();
export type LobbySignInRequest = z.infer<typeof LobbySignInRequest>;

export const LobbySession = /* @__PURE__ */ (() => z
  .object({
    lobbyToken: z.string().check(z.meta({ description: 'Bearer token for the (lobby) routes; works until expiresAt or a revoke' })),
    expiresAt: IsoDateTime,
    scope: LobbyScope,
    patientId: PatientId,
  })
  .check(z.meta({ id: 'LobbySession' })))();
export type LobbySession = z.infer<typeof LobbySession>;

/** GET /lobby-sessions/current → 200. */
export const CurrentLobbySession = /* @__PURE__ */ (() => z
  .object({ patientId: PatientId, scope: LobbyScope, expiresAt: IsoDateTime })
  .check(z.meta({ id: 'CurrentLobbySession' })))();
export type CurrentLobbySession = z.infer<typeof CurrentLobbySession>;
