/**
 * Real RS256 tokens for handler tests: a key pair made per run, its JWKS served through a stubbed
 * fetch, so the functions' token checks run for real (signature, issuer, expiry, client, groups).
 */
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { vi } from 'vitest';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = 'test-key';
export const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] };

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export interface TokenOptions {
  pool?: string;
  clientId?: string;
  groups?: string[];
  username?: string;
  /** The login's permanent id; by default one per username, as the pool gives. */
  sub?: string;
  tokenUse?: 'access' | 'id';
  expiresInSeconds?: number;
  /** Epoch seconds (default now). */
  issuedAt?: number;
  signWith?: typeof privateKey;
  /** More claims, as a pre-token-generation trigger adds them (e.g. `portal_generation`, rule 17). */
  claims?: Record<string, unknown>;
}

export function staffToken(opts: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const pool = opts.pool ?? process.env.STAFF_POOL_ID;
  const claims = {
    sub: opts.sub ?? `sub-${opts.username ?? 'frontdesk'}`,
    iss: `https://cognito-idp.us-east-1.amazonaws.com/${pool}`,
    token_use: opts.tokenUse ?? 'access',
    client_id: opts.clientId ?? process.env.STAFF_CLIENT_ID,
    username: opts.username ?? 'frontdesk',
    'cognito:groups': opts.groups ?? ['staff'],
    iat: opts.issuedAt ?? now,
    exp: now + (opts.expiresInSeconds ?? 3600),
    jti: randomUUID(),
    ...opts.claims,
  };
  const unsigned = `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64(claims)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(opts.signWith ?? privateKey).toString('base64url');
  return `${unsigned}.${signature}`;
}

export const adminToken = (opts: TokenOptions = {}) => staffToken({ groups: ['admin'], username: 'boss', ...opts });

/** Serves the test JWKS to the verifier; any other fetch fails the test loudly. */
export function serveJwks(): void {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (String(url).endsWith('/.well-known/jwks.json')) return new Response(JSON.stringify(jwks), { status: 200 });
      throw new Error(`unexpected fetch ${url}`);
    }),
  );
}

export const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
