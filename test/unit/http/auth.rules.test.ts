/**
 * Mutation-testing rules for lambdas/http/auth.ts (issue 20): the bearer header's shape, the
 * token checks (rule 30: the record read with the token) and the role a route needs (rule 28).
 * Real RS256 tokens (test/support/tokens.ts); the staff record is the mock of test/handlers/env.ts.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { accessTokenVerifier, authenticateStaff, bearerToken, mayCall, type StaffPrincipal } from '../../../lambdas/http/auth.ts';
import { HttpProblem } from '../../../lambdas/http/problems.ts';
import { staffRecordOf } from '../../../lambdas/http/staff-session.ts';
import { enabledStaffRecord } from '../../support/staff-records.ts';
import { jwks, otherKey, serveJwks, staffToken } from '../../support/tokens.ts';

async function refusal(p: Promise<unknown>): Promise<HttpProblem> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpProblem);
  return err as HttpProblem;
}

function refusedSync(f: () => unknown): HttpProblem {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpProblem);
    return err as HttpProblem;
  }
  throw new Error('not refused');
}

describe('the bearer header', () => {
  it('takes "Bearer <token>" with 10 to 8192 token characters', () => {
    expect(bearerToken('Bearer abcdefghij')).toBe('abcdefghij');
    expect(bearerToken(`Bearer ${'a'.repeat(8192)}`)).toHaveLength(8192);
    expect(bearerToken('Bearer aZ09._~+/=-xyz')).toBe('aZ09._~+/=-xyz');
  });

  it('refuses anything else with 401 and WWW-Authenticate: Bearer', () => {
    for (const header of [undefined, '', 'Bearer abcdefghi', `Bearer ${'a'.repeat(8193)}`, 'bearer abcdefghij', 'Bearer  abcdefghij', 'Bearer abcdefghij ', 'xBearer abcdefghij', 'Bearer abcde fghij', 'Bearer abcdefghij\n', 'Basic abcdefghij']) {
      const err = refusedSync(() => bearerToken(header));
      expect(err.status, String(header)).toBe(401);
      expect(err.headers).toEqual({ 'www-authenticate': 'Bearer' });
    }
  });
});

describe('rule 30: a staff token is accepted with its record', () => {
  beforeEach(() => serveJwks());

  it('a valid token gives the principal: pool username, sub, the roles both carry (in a fixed order), the record permissions', async () => {
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-x', { roles: ['staff', 'admin'], permissions: { canInvite: false, autoInvite: true } }));
    const p = await authenticateStaff(`Bearer ${staffToken({ username: 'frontdesk', sub: 'sub-x', groups: ['staff', 'admin'] })}`, 'staff');
    expect(p).toEqual({ kind: 'staff', staffId: 'frontdesk', sub: 'sub-x', roles: ['admin', 'staff'], permissions: { canInvite: false, autoInvite: true } });
    expect(vi.mocked(staffRecordOf)).toHaveBeenCalledWith('sub-x');
  });

  it('an ID token, a token of another client, of another pool or signed by another key: one 401 that says sign in again', async () => {
    for (const token of [
      staffToken({ tokenUse: 'id' }),
      staffToken({ clientId: 'otherclient' }),
      staffToken({ pool: 'us-east-1_patients' }),
      staffToken({ signWith: otherKey }),
      staffToken({ expiresInSeconds: -60 }),
    ]) {
      const err = await refusal(authenticateStaff(`Bearer ${token}`, 'staff'));
      expect(err.status).toBe(401);
      expect(err.detail).toMatch(/Sign in again/);
    }
  });

  it('a token without a username or with an empty sub is refused', async () => {
    expect((await refusal(authenticateStaff(`Bearer ${staffToken({ claims: { username: 42 } })}`, 'staff'))).status).toBe(401);
    expect((await refusal(authenticateStaff(`Bearer ${staffToken({ sub: '' })}`, 'staff'))).status).toBe(401);
    expect((await refusal(authenticateStaff(`Bearer ${staffToken({ claims: { sub: 7 } })}`, 'staff'))).status).toBe(401);
    expect(vi.mocked(staffRecordOf)).not.toHaveBeenCalled();
  });

  it('a missing or disabled record refuses the token like a bad one', async () => {
    vi.mocked(staffRecordOf).mockResolvedValueOnce(undefined);
    expect((await refusal(authenticateStaff(`Bearer ${staffToken()}`, 'staff'))).detail).toMatch(/Sign in again/);
    vi.mocked(staffRecordOf).mockResolvedValueOnce(enabledStaffRecord('sub-frontdesk', { enabled: false }));
    expect((await refusal(authenticateStaff(`Bearer ${staffToken()}`, 'staff'))).detail).toMatch(/Sign in again/);
  });

  it('the cut-off counts from auth_time (the sign-in), not from iat (a refresh): a refresh after the cut-off is still refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-frontdesk', { sessionsValidFrom: now - 100 }));
    const refreshed = staffToken({ issuedAt: now, claims: { auth_time: now - 200 } });
    expect((await refusal(authenticateStaff(`Bearer ${refreshed}`, 'staff'))).status).toBe(401);
    // Signed in at the cut-off or after it: accepted; without auth_time, iat is the sign-in.
    expect((await authenticateStaff(`Bearer ${staffToken({ issuedAt: now, claims: { auth_time: now - 100 } })}`, 'staff')).sub).toBe('sub-frontdesk');
    expect((await authenticateStaff(`Bearer ${staffToken({ issuedAt: now - 50 })}`, 'staff')).sub).toBe('sub-frontdesk');
    expect((await refusal(authenticateStaff(`Bearer ${staffToken({ issuedAt: now - 150 })}`, 'staff'))).status).toBe(401);
  });
});

describe('the signing keys', () => {
  it('are fetched once per pool (a cold start), with a time limit', async () => {
    serveJwks();
    const fetched = vi.mocked(globalThis.fetch);
    const verifier = accessTokenVerifier('us-east-1_rulesA', 'staffclient');
    expect(accessTokenVerifier('us-east-1_rulesA', 'staffclient')).toBe(verifier);
    await verifier.verify(staffToken({ pool: 'us-east-1_rulesA' }));
    await verifier.verify(staffToken({ pool: 'us-east-1_rulesA' }));
    expect(fetched).toHaveBeenCalledTimes(1);
    expect(fetched.mock.calls[0]![1]).toMatchObject({ signal: expect.any(AbortSignal) });
  });

  it('only from a successful answer: a JWKS body with an error status is not trusted', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(jwks), { status: 500 })));
    await expect(accessTokenVerifier('us-east-1_rulesB', 'staffclient').verify(staffToken({ pool: 'us-east-1_rulesB' }))).rejects.toThrow();
  });
});

describe('rule 28: the role a route needs', () => {
  beforeEach(() => serveJwks());

  it('a role counts only while the token and the record both carry it: a demoted admin gets 403 on admin routes', async () => {
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-boss', { roles: ['staff'] }));
    const token = `Bearer ${staffToken({ username: 'boss', groups: ['admin', 'staff'] })}`;
    const err = await refusal(authenticateStaff(token, 'admin'));
    expect([err.status, err.detail]).toEqual([403, 'This needs the admin role.']);
    expect((await authenticateStaff(token, 'staff')).roles).toEqual(['staff']);
  });

  it('a token whose groups are not a list, or name no role the record has, gets 403 on staff routes', async () => {
    for (const token of [staffToken({ claims: { 'cognito:groups': 'admin' } }), staffToken({ groups: [] }), staffToken({ groups: ['superuser'] })]) {
      const err = await refusal(authenticateStaff(`Bearer ${token}`, 'staff'));
      expect([err.status, err.detail]).toEqual([403, 'This needs a staff role.']);
    }
  });

  it('mayCall: admin routes need admin, staff routes any staff role, no other caller kind is a staff route', () => {
    const p = (roles: StaffPrincipal['roles']): StaffPrincipal => ({ kind: 'staff', staffId: 'a', sub: 's', roles, permissions: { canInvite: true, autoInvite: false } });
    expect(mayCall(p(['admin']), 'admin')).toBe(true);
    expect(mayCall(p(['staff']), 'admin')).toBe(false);
    expect(mayCall(p(['staff']), 'staff')).toBe(true);
    expect(mayCall(p(['admin']), 'staff')).toBe(true);
    expect(mayCall(p([]), 'staff')).toBe(false);
    for (const caller of ['public', 'patient', 'lobby'] as const) expect(mayCall(p(['admin', 'staff']), caller)).toBe(false);
  });
});
