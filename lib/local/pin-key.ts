/**
 * The local stack's key for invitation PINs (security rule 10; KMS plays this part in AWS):
 * 32 random bytes, base64, in dataDir (never committed: .local/ is ignored), readable by the
 * owner only, made at the first start and kept across runs so sealed PINs stay readable.
 * lambdas/adapters/pin-vault.ts reads it through PIN_KEY_FILE.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function ensurePinKeyFile(dataDir: string): string {
  const path = join(dataDir, 'pin-key');
  if (!existsSync(path)) writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return path;
}
