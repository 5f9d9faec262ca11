/**
 * Staff sign-in for tests and scripts, through TOTP as in AWS: password → SOFTWARE_TOKEN_MFA →
 * a code from the user's secret → tokens (api.md, POST /staff/sessions and /challenge).
 *
 * Cognito refuses a TOTP code that was already used to sign that user in, and the local API
 * refuses a replay too: so a second sign-in of one user within the same 30-second step waits for
 * the next step. To keep that rare, tokens are reused across test files of a run (files run one
 * after another in one worker, each with fresh modules): they are cached in a file under the OS
 * temp dir named by the stack's staff pool (a fresh pool id per run), owner-only.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { api, stack } from './stack.ts';

export interface StaffTokens {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  expiresIn: number;
}

export const TOTP_STEP_MS = 30_000;

/** The RFC 6238 code of a base32 secret at `at` (SHA-1, 6 digits, 30 s, as Cognito). */
export function totpCode(secret: string, at: number = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at });
}

interface Cache {
  tokens: Record<string, { tokens: StaffTokens; until: number }>;
  /** The last 30-second step whose code signed each user in. */
  lastStep: Record<string, number>;
}

const cacheFile = () => join(tmpdir(), `portal-access-staff-sessions-${stack().staffUserPoolId}.json`);
const readCache = (): Cache => {
  const file = cacheFile();
  if (!existsSync(file)) return { tokens: {}, lastStep: {} };
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Cache;
  } catch {
    return { tokens: {}, lastStep: {} };
  }
};
const writeCache = (cache: Cache) => writeFileSync(cacheFile(), JSON.stringify(cache), { mode: 0o600 });
const key = (username: string) => username.toLowerCase();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A code for this user that has not signed them in yet: the current step's, or the next step's
 * after waiting for it. Recorded as used.
 */
export async function freshCode(username: string, secret: string): Promise<string> {
  let step = Math.floor(Date.now() / TOTP_STEP_MS);
  const used = readCache().lastStep[key(username)] ?? -1;
  if (step <= used) {
    await sleep((used + 1) * TOTP_STEP_MS - Date.now() + 50);
    step = Math.floor(Date.now() / TOTP_STEP_MS);
  }
  const cache = readCache();
  cache.lastStep[key(username)] = step;
  writeCache(cache);
  return totpCode(secret, step * TOTP_STEP_MS + 1000);
}

/** Password then TOTP through the API; throws with the status and challenge when it does not end in tokens. */
export async function signInWithTotp(username: string, password: string, secret: string): Promise<StaffTokens> {
  const first = await api('/staff/sessions', { method: 'POST', body: { username, password } });
  if (first.status !== 200 || first.json?.challenge !== 'SOFTWARE_TOKEN_MFA') {
    throw new Error(`staff sign-in of ${username}: ${first.status} ${first.json?.challenge ?? first.json?.title ?? ''}`);
  }
  const code = await freshCode(username, secret);
  const second = await api('/staff/sessions/challenge', {
    method: 'POST',
    body: { session: first.json.session, challenge: 'SOFTWARE_TOKEN_MFA', code },
  });
  if (second.status !== 200 || !second.json?.accessToken) {
    throw new Error(`staff TOTP of ${username}: ${second.status} ${second.json?.challenge ?? second.json?.title ?? ''}`);
  }
  return second.json as StaffTokens;
}

/**
 * The seeded admin's or staff user's tokens, signed in through TOTP once and reused while they
 * have more than 5 minutes left. `fresh` signs in again (a test that ends sessions).
 */
export async function staffSession(who: 'admin' | 'staff', options: { fresh?: boolean } = {}): Promise<StaffTokens> {
  const user = stack()[who];
  const cached = readCache().tokens[key(user.username)];
  if (!options.fresh && cached && cached.until - Date.now() > 5 * 60_000) return cached.tokens;
  const tokens = await signInWithTotp(user.username, user.password, user.totpSecret);
  const cache = readCache();
  cache.tokens[key(user.username)] = { tokens, until: Date.now() + tokens.expiresIn * 1000 };
  writeCache(cache);
  return tokens;
}

/** Both seeded users' access tokens. */
export async function staffAccessTokens(): Promise<{ admin: string; staff: string }> {
  return { admin: (await staffSession('admin')).accessToken, staff: (await staffSession('staff')).accessToken };
}

/**
 * A new staff user's first sign-in as the console walks it: temporary password →
 * NEW_PASSWORD_REQUIRED → MFA_SETUP (secretCode) → a code → tokens. Answers the TOTP secret.
 */
export async function firstSignIn(username: string, temporaryPassword: string, newPassword: string) {
  const first = await api('/staff/sessions', { method: 'POST', body: { username, password: temporaryPassword } });
  if (first.json?.challenge !== 'NEW_PASSWORD_REQUIRED') throw new Error(`first sign-in of ${username}: ${first.status} ${first.json?.challenge ?? ''}`);
  const changed = await api('/staff/sessions/challenge', {
    method: 'POST',
    body: { session: first.json.session, challenge: 'NEW_PASSWORD_REQUIRED', newPassword },
  });
  if (changed.json?.challenge !== 'MFA_SETUP') throw new Error(`new password of ${username}: ${changed.status} ${changed.json?.challenge ?? ''}`);
  const started = await api('/staff/sessions/challenge', { method: 'POST', body: { session: changed.json.session, challenge: 'MFA_SETUP' } });
  if (!started.json?.secretCode) throw new Error(`MFA_SETUP of ${username}: ${started.status}`);
  const secret = started.json.secretCode as string;
  const code = await freshCode(username, secret);
  const done = await api('/staff/sessions/challenge', {
    method: 'POST',
    body: { session: started.json.session, challenge: 'MFA_SETUP', code },
  });
  if (!done.json?.accessToken) throw new Error(`TOTP enrolment of ${username}: ${done.status}`);
  return { secret, tokens: done.json as StaffTokens, otpauthUri: started.json.otpauthUri as string };
}
