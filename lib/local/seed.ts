/**
 * The seeded staff logins. Passwords come from PORTAL_ADMIN_PASSWORD / PORTAL_STAFF_PASSWORD
 * where set; otherwise they are generated once and kept in dataDir, so a restart keeps them.
 * Their TOTP secrets (enrolled at start, cognito.ts) are kept beside them in seed-totp.json.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SeedUser } from './cognito.ts';

interface Kept {
  admin?: string;
  staff?: string;
}

/** 18 random bytes as base64url: 24 characters, 144 bits. */
export const generatePassword = (): string => randomBytes(18).toString('base64url');

export async function seedUsers(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<[SeedUser, SeedUser]> {
  const file = join(dataDir, 'seed-passwords.json');
  const kept: Kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Kept) : {};
  const generated: Kept = { admin: kept.admin ?? generatePassword(), staff: kept.staff ?? generatePassword() };
  if (generated.admin !== kept.admin || generated.staff !== kept.staff) {
    await writeFile(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600 });
  }
  const totp = readTotp(dataDir);
  return [
    { username: 'admin', password: env.PORTAL_ADMIN_PASSWORD || generated.admin!, group: 'admin', ...(totp.admin ? { totpSecret: totp.admin } : {}) },
    { username: 'staff', password: env.PORTAL_STAFF_PASSWORD || generated.staff!, group: 'staff', ...(totp.staff ? { totpSecret: totp.staff } : {}) },
  ];
}

const totpFile = (dataDir: string) => join(dataDir, 'seed-totp.json');

function readTotp(dataDir: string): Kept {
  const file = totpFile(dataDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Kept) : {};
}

/** Keeps the seeded users' base32 TOTP secrets for the next start (owner-only, like the passwords). */
export async function keepTotpSecrets(dataDir: string, secrets: { admin: string; staff: string }): Promise<void> {
  const kept = readTotp(dataDir);
  if (kept.admin === secrets.admin && kept.staff === secrets.staff) return;
  await writeFile(totpFile(dataDir), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}
