/**
 * The key of the lobby password hash (HMAC-SHA-256; why: the one comment in
 * lambdas/domain/secrets.ts). Never the PIN key itself, never in the table:
 *
 *   - In AWS (LOBBY_KEY_ID): the stack's KMS HMAC_256 key of lobby passwords
 *     (lib/stack/lobby-key.ts), which no function can read. At first use the function asks KMS
 *     once for GenerateMac(key, "portal-access lobby password key v1"), a fixed label, and uses
 *     the 32-byte MAC as its HMAC key for the rest of the container's life (KMS documents
 *     GenerateMac's raw result for exactly this: HMAC-based key derivation). One KMS call per
 *     cold start, not one per sign-in: a per-request GenerateMac would add a network round trip
 *     to every lobby request (what item 4 is removing) and spend the account's KMS request quota
 *     on kiosk traffic, for no gain: a function that can call GenerateMac can compute every hash
 *     anyway. What it costs: a compromised function could carry the derived key off and test a
 *     stolen table copy offline, but lobby passwords live ≤ 24 h, and changing the label's "v1"
 *     (or the key) replaces it. A failed derivation is not kept (the next request asks again),
 *     and it is never replaced by an unkeyed hash: the request fails (500, LobbyKeyUnavailable).
 *   - Locally (PIN_KEY_FILE; the local stack has no KMS): HKDF of the PIN key file under a purpose
 *     of its own, so it is neither the PIN key nor any other key derived from it.
 *   - Neither: no key; lobby passwords keep the scrypt scheme (slower, still safe).
 * Each stored hash names its scheme, so scrypt hashes issued before a deploy keep verifying.
 */
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { config } from '../config.ts';
import { cryptoSecrets, type LobbyHashKey, type LobbySecrets } from '../domain/lobby.ts';

// As pin-vault.ts reads it (not imported from there: that module brings the KMS client along).
const pinKey = (path: string) => Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');

/** The fixed message whose MAC under the KMS key is the lobby hash key (v1: change it to replace the key). */
export const lobbyKeyLabel = 'portal-access lobby password key v1';

/** KMS could not give the lobby hash key: the request fails (500), it never falls back to an unkeyed hash. */
export class LobbyKeyUnavailable extends Error {
  constructor(cause?: unknown) {
    super('The lobby password key is unavailable.', { cause });
    this.name = 'LobbyKeyUnavailable';
  }
}

/**
 * The hash key derived with KMS at first use and kept for the life of the container: one
 * GenerateMac however many passwords are hashed; concurrent first uses share the one call; a
 * failure is not kept, so the next use asks again.
 */
export function kmsLobbyHashKey(keyId: string, client: Pick<KMSClient, 'send'>): LobbyHashKey {
  let pending: Promise<Buffer> | undefined;
  const derive = async (): Promise<Buffer> => {
    let mac: Uint8Array | undefined;
    try {
      ({ Mac: mac } = await client.send(new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(lobbyKeyLabel, 'utf8') })));
    } catch (err) {
      throw new LobbyKeyUnavailable(err);
    }
    if (!mac || mac.length !== 32) throw new LobbyKeyUnavailable();
    return Buffer.from(mac);
  };
  return () => {
    pending ??= derive().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** The local key: HKDF of the PIN key file; undefined where the file cannot be read or holds no key. */
export function fileLobbyHashKey(file: string): Buffer | undefined {
  let pin: Buffer;
  try {
    pin = pinKey(file);
  } catch {
    return undefined;
  }
  if (pin.length === 0) return undefined;
  return Buffer.from(hkdfSync('sha256', pin, 'portal-access lobby', 'lobby-password', 32));
}

let cached: { key: Buffer | LobbyHashKey | undefined } | undefined;

/**
 * The key the configuration names: KMS where LOBBY_KEY_ID is set (AWS), else the PIN key file
 * (local), else none (scrypt). A local key file that cannot be read is no key: a lobby request
 * never fails for want of it (passwords issued under a key still refuse, with the one 401, until
 * it is back). Made once per process.
 */
export function lobbyHashKey(): Buffer | LobbyHashKey | undefined {
  if (!cached) {
    const c = config();
    if (c.LOBBY_KEY_ID) cached = { key: kmsLobbyHashKey(c.LOBBY_KEY_ID, new KMSClient({ region: c.AWS_REGION })) };
    else cached = { key: c.PIN_KEY_FILE ? fileLobbyHashKey(c.PIN_KEY_FILE) : undefined };
  }
  return cached.key;
}

/** Tests: forget the key, as a new container would (the configuration is read again at next use). */
export function resetLobbyKeyForTests(): void {
  cached = undefined;
}

/** The lobby secrets with the hash key, for the handlers. */
export function lobbySecrets(): LobbySecrets {
  const key = lobbyHashKey();
  return key ? { ...cryptoSecrets, hashKey: key } : cryptoSecrets;
}
