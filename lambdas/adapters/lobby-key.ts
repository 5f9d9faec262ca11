/**
 * The key of the lobby password hash (HMAC-SHA-256; why: the one comment in
 * lambdas/domain/secrets.ts). It is derived with HKDF from the PIN key the functions already
 * hold (PIN_KEY_FILE, the local stack's key file: adapters/pin-vault.ts), under a purpose of its
 * own, so it is neither the PIN key nor any other key derived from it, and it is not in the table.
 *
 * In AWS the PIN key lives in KMS and no function can read it: there, until a key of its own is
 * provisioned (an HMAC_256 KMS key, or a secret read once per cold start), no key is configured
 * and lobby passwords keep the scrypt scheme (slower, still safe). Both schemes verify.
 */
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { config } from '../config.ts';
import { cryptoSecrets, type LobbySecrets } from '../domain/lobby.ts';

// As pin-vault.ts reads it (not imported from there: that module brings the KMS client along).
const pinKey = (path: string) => Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');

let cached: { key: Buffer | undefined } | undefined;

/**
 * The key, or undefined where there is none: no key file (Lambda), or one that cannot be read or
 * holds no key. Then lobby passwords are hashed with scrypt: a lobby request never fails for want
 * of this key (passwords issued under a key still refuse, with the one 401, until it is back).
 */
export function lobbyHashKey(): Buffer | undefined {
  if (!cached) cached = { key: deriveKey(config().PIN_KEY_FILE) };
  return cached.key;
}

function deriveKey(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  let pin: Buffer;
  try {
    pin = pinKey(file);
  } catch {
    return undefined;
  }
  if (pin.length === 0) return undefined;
  return Buffer.from(hkdfSync('sha256', pin, 'portal-access lobby', 'lobby-password', 32));
}

/** The lobby secrets with the hash key, for the handlers. */
export function lobbySecrets(): LobbySecrets {
  const key = lobbyHashKey();
  return key ? { ...cryptoSecrets, hashKey: key } : cryptoSecrets;
}
