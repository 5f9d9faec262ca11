/**
 * Bearer-token checks for staff routes. Tokens are verified here, in the function, against the
 * staff pool's signing keys (not by an API Gateway authorizer) so that the local stack and AWS
 * run the same check, and so that the check against our own staff record sits beside it: a
 * valid token is accepted only while its login's record `STAFF#<sub>` exists, is enabled, and
 * its cut-off is not later than the token's sign-in (rule 30). So disabling a user refuses their
 * next request, in AWS and on cognito-local alike.
 */
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Fetcher } from 'aws-jwt-verify/https';
import { config } from '../config.ts';
import type { Caller } from '../../lib/routes.ts';
import type { StaffPermissions } from '../schemas/staff.ts';
import { sessionAccepted } from '../domain/staff-admin.ts';
import { forbidden, unauthorized } from './problems.ts';
import { staffRecordOf } from './staff-session.ts';

export type StaffRole = 'admin' | 'staff';

export interface StaffPrincipal {
  kind: 'staff';
  /** The staff user's pool username: the id the audit trail shows. */
  staffId: string;
  /** The login's permanent id (the token's `sub`): what the staff record is keyed by. */
  sub: string;
  roles: StaffRole[];
  /** From the staff record, read with the token: what rule 28 checks. */
  permissions: StaffPermissions;
}

/** Fetches the JWKS with the runtime's fetch, which (unlike the library default) also speaks http to the local emulator. */
const fetcher: Fetcher = {
  async fetch(uri) {
    const res = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
    return res.arrayBuffer();
  },
};

type Verifier = { verify(token: string): Promise<Record<string, unknown>> };
const verifiers = new Map<string, Verifier>();

/** An access-token verifier for one pool and app client, made once per cold start. */
export function accessTokenVerifier(poolId: string, clientId: string): Verifier {
  let verifier = verifiers.get(poolId);
  if (!verifier) {
    const issuer = `${config().COGNITO_ISSUER_BASE}/${poolId}`;
    verifier = JwtVerifier.create(
      {
        issuer,
        jwksUri: `${issuer}/.well-known/jwks.json`,
        audience: null, // access tokens carry client_id, not aud: checked below
        customJwtCheck: ({ payload }) => {
          if (payload.token_use !== 'access') throw new Error('not an access token');
          if (payload.client_id !== clientId) throw new Error('token of another client');
        },
      },
      { jwksCache: new SimpleJwksCache({ fetcher }) },
    ) as unknown as Verifier;
    verifiers.set(poolId, verifier);
  }
  return verifier;
}

const verifierForStaff = () => accessTokenVerifier(config().STAFF_POOL_ID, config().STAFF_CLIENT_ID);

export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{10,8192})$/.exec(authorization ?? '');
  if (!match?.[1]) throw unauthorized();
  return match[1];
}

const roleOrder: readonly StaffRole[] = ['admin', 'staff'];

/** Verifies a staff access token and checks the caller's role against what the route needs. */
const refused = () => unauthorized('The access token is not valid or has expired. Sign in again.');

export async function authenticateStaff(authorization: string | undefined, caller: Caller): Promise<StaffPrincipal> {
  const token = bearerToken(authorization);
  let payload: Record<string, unknown>;
  try {
    payload = await verifierForStaff().verify(token);
  } catch {
    // Expired, forged, from the patient pool or another client: one answer for all.
    throw refused();
  }
  const groups = Array.isArray(payload['cognito:groups']) ? payload['cognito:groups'] : [];
  const staffId = typeof payload.username === 'string' ? payload.username : undefined;
  const sub = typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined;
  if (!staffId || !sub) throw unauthorized();
  // The session's start: auth_time (kept across refreshes), else iat. A refresh after a disable
  // does not make an older sign-in new again.
  const signedInAt = Number(payload.auth_time ?? payload.iat);
  // Rule 30: a missing, disabled or cut-off record gets the same answer as a bad token.
  const record = await staffRecordOf(sub);
  if (!sessionAccepted(record, signedInAt)) throw refused();
  // A role counts while both the token and the record carry it: a demotion (PUT /staff/{staffId})
  // takes effect on the next request, not when the token expires; a promotion at the next sign-in.
  const roles = roleOrder.filter((r) => groups.includes(r) && record.roles.includes(r));
  const principal: StaffPrincipal = { kind: 'staff', staffId, sub, roles, permissions: record.permissions };
  if (!mayCall(principal, caller)) {
    throw forbidden(caller === 'admin' ? 'This needs the admin role.' : 'This needs a staff role.');
  }
  return principal;
}

export function mayCall(principal: StaffPrincipal, caller: Caller): boolean {
  if (caller === 'admin') return principal.roles.includes('admin');
  if (caller === 'staff') return principal.roles.length > 0;
  return false;
}
