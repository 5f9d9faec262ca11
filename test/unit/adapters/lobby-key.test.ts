/**
 * The lobby password hash key (lambdas/adapters/lobby-key.ts, issue 16), locally: derived from
 * the local PIN key file where there is one; with neither LOBBY_KEY_ID (AWS: the KMS path,
 * test/handlers/lobby-kms.test.ts) nor a key file there is none, and a key file that cannot be
 * read must not turn every lobby request into a 500: lobby passwords then keep the scrypt
 * scheme, which still verifies.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '../../../lambdas/config.ts';
import { cryptoSecrets } from '../../../lambdas/domain/lobby.ts';

const saved = process.env.PIN_KEY_FILE;
afterEach(() => {
  if (saved === undefined) delete process.env.PIN_KEY_FILE;
  else process.env.PIN_KEY_FILE = saved;
  resetConfigForTests();
});

/** A fresh copy of the module (it keeps the key for the life of the process). */
async function freshLobbyKey(file: string | undefined) {
  if (file === undefined) delete process.env.PIN_KEY_FILE;
  else process.env.PIN_KEY_FILE = file;
  resetConfigForTests();
  vi.resetModules();
  return import('../../../lambdas/adapters/lobby-key.ts');
}

describe('lobby hash key', () => {
  it('no LOBBY_KEY_ID and no PIN key file: no key, the scrypt scheme', async () => {
    const { lobbySecrets, lobbyHashKey } = await freshLobbyKey(undefined);
    expect(lobbyHashKey()).toBeUndefined();
    expect(lobbySecrets().hashKey).toBeUndefined();
    expect(Object.keys(lobbySecrets()).sort()).toEqual(Object.keys(cryptoSecrets).sort());
  });

  it('a PIN key file: a 32-byte key of its own, not the PIN key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lobby-key-'));
    const pin = Buffer.alloc(32, 7);
    writeFileSync(join(dir, 'pin.key'), pin.toString('base64'));
    const { lobbyHashKey } = await freshLobbyKey(join(dir, 'pin.key'));
    const key = lobbyHashKey() as Buffer;
    expect(key).toHaveLength(32);
    expect(key.equals(pin)).toBe(false);
  });

  it('a PIN key file that cannot be read, or holds no key: no key (scrypt), never a throw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lobby-key-'));
    writeFileSync(join(dir, 'empty.key'), '\n');
    for (const file of [join(dir, 'missing.key'), join(dir, 'empty.key'), dir]) {
      const { lobbySecrets, lobbyHashKey } = await freshLobbyKey(file);
      expect(() => lobbyHashKey(), file).not.toThrow();
      expect(lobbyHashKey(), file).toBeUndefined();
      expect(lobbySecrets().hashKey, file).toBeUndefined();
    }
  });
});
