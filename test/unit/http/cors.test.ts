/**
 * lambdas/http/cors.ts: the origin list (checked as the stack checks it at synth), which routes
 * answer CORS, the preflight and actual answers, and the middleware every function runs: a
 * listed origin is named back (never `*`), an unlisted one gets no Access-Control-Allow-Origin,
 * problems (401, 429) carry the headers too, and patient routes and pages carry none at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  actualHeaders,
  answersCors,
  DEFAULT_LOCAL_ORIGINS,
  localStaffOrigins,
  originProblem,
  parseStaffOrigins,
  preflightHeaders,
  preflightPolicies,
  staffOriginsFromEnv,
  StaffOriginsError,
} from '../../../lambdas/http/cors.ts';
import type { Authenticate } from '../../../lambdas/http/handler-core.ts';
import { buildHandlerFor as buildHandler } from '../../support/build-handler.ts';
import { HttpProblem } from '../../../lambdas/http/problems.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { routes, type RouteId } from '../../../lib/routes.ts';
import { apiEvent, call } from '../../support/events.ts';

const A = 'https://ehr.practice.org';
const B = 'https://dashboard.practice.org:8443';
const EVIL = 'https://ehr.practice.org.evil.example';

describe('staff origins', () => {
  it('accepts https origins and http only on localhost / 127.0.0.1', () => {
    expect(parseStaffOrigins(`${A}, ${B},http://localhost:5173,http://127.0.0.1:8080`)).toEqual([A, B, 'http://localhost:5173', 'http://127.0.0.1:8080']);
    expect(parseStaffOrigins([A, A])).toEqual([A]);
    expect(parseStaffOrigins('')).toEqual([]);
  });

  it.each([
    ['*', /"\*" is not allowed/],
    ['null', /null/],
    ['http://ehr.practice.org', /must use https/],
    ['http://localhost.evil.example', /must use https/],
    ['https://ehr.practice.org/', /not a bare origin.*https:\/\/ehr\.practice\.org$/],
    ['https://ehr.practice.org/app', /not a bare origin/],
    ['https://EHR.practice.org', /not a bare origin/],
    ['https://ehr.practice.org:443', /not a bare origin/],
    ['https://user@ehr.practice.org', /not a bare origin/],
    ['ehr.practice.org', /not a URL/],
    ['ftp://ehr.practice.org', /must be https/],
    ['javascript:alert(1)', /must be https/],
  ])('refuses %s', (origin, message) => {
    expect(originProblem(origin)).toMatch(message);
    expect(() => parseStaffOrigins(`${A},${origin}`)).toThrow(StaffOriginsError);
  });

  it('names every bad entry at once', () => {
    try {
      parseStaffOrigins('*,http://ehr.practice.org');
      expect.unreachable();
    } catch (err) {
      expect((err as StaffOriginsError).problems).toHaveLength(2);
    }
  });

  it('STAFF_ORIGINS: the functions read unset or empty as none; the local stack defaults it as documented; anything else is checked', () => {
    expect(staffOriginsFromEnv({})).toEqual([]);
    expect(localStaffOrigins({})).toBe('http://localhost:5173,http://127.0.0.1:5173');
    expect(localStaffOrigins({ STAFF_ORIGINS: '' })).toBe('');
    expect(() => localStaffOrigins({ STAFF_ORIGINS: 'http://ehr.practice.org' })).toThrow(StaffOriginsError);
    expect(DEFAULT_LOCAL_ORIGINS.every((o) => originProblem(o) === undefined)).toBe(true);
    expect(staffOriginsFromEnv({ STAFF_ORIGINS: '' })).toEqual([]);
    expect(staffOriginsFromEnv({ STAFF_ORIGINS: A })).toEqual([A]);
    expect(() => staffOriginsFromEnv({ STAFF_ORIGINS: '*' })).toThrow(StaffOriginsError);
  });
});

describe('which routes answer CORS', () => {
  const byId = (id: string) => routes.find((r) => r.id === id)!;

  it('the staff routes and the two staff sign-in routes; no patient, lobby or public route, no page', () => {
    for (const r of routes) {
      const expected = r.caller === 'staff' || r.caller === 'admin' || r.path === '/staff/sessions' || r.path === '/staff/sessions/challenge';
      expect(answersCors(r), `${r.method} ${r.path}`).toBe(expected);
    }
    expect(answersCors(byId('staff-sign-in'))).toBe(true);
    expect(answersCors(byId('staff-sign-in-challenge'))).toBe(true);
    for (const id of ['patient-sign-in', 'account-get', 'lobby-session-current', 'portal-page', 'console-page', 'page-asset', 'openapi', 'health']) {
      expect(answersCors(byId(id)), id).toBe(false);
    }
  });

  it('a preflight policy per path: its CORS methods, and the request headers those routes take', () => {
    const policies = preflightPolicies(routes);
    expect(policies.get('/patients/{patientId}/portal')).toEqual({ methods: ['GET', 'PUT'], headers: ['authorization', 'content-type', 'if-match'] });
    expect(policies.get('/staff/sessions')).toEqual({ methods: ['POST'], headers: ['content-type'] });
    expect(policies.get('/staff')).toEqual({ methods: ['GET', 'POST'], headers: ['authorization', 'content-type'] });
    for (const path of ['/sessions', '/account', '/lobby-sessions/current', '/portal/{page}', '/console', '/assets/{file}', '/health', '/openapi.json']) {
      expect(policies.has(path), path).toBe(false);
    }
  });
});

describe('answers', () => {
  const policy = { methods: ['GET', 'PUT'], headers: ['authorization', 'content-type', 'if-match'] };

  it('a preflight from a listed origin names that origin, the methods, the headers and a max age', () => {
    expect(preflightHeaders(policy, B, [A, B])).toEqual({
      vary: 'Origin',
      'access-control-allow-origin': B,
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'authorization, content-type, if-match',
      'access-control-max-age': '600',
    });
  });

  it('a preflight from any other origin (or none) allows nothing', () => {
    for (const origin of [EVIL, 'null', '*', 'http://localhost:5173', undefined]) {
      expect(preflightHeaders(policy, origin, [A, B]), String(origin)).toEqual({ vary: 'Origin' });
    }
  });

  it('an actual answer exposes x-request-id, retry-after and etag to a listed origin only', () => {
    expect(actualHeaders(A, [A])).toEqual({ vary: 'Origin', 'access-control-allow-origin': A, 'access-control-expose-headers': 'x-request-id, retry-after, etag' });
    expect(actualHeaders(EVIL, [A])).toEqual({ vary: 'Origin' });
  });
});

describe('the functions (middy chain)', () => {
  const saved = process.env.STAFF_ORIGINS;
  afterEach(() => {
    if (saved === undefined) delete process.env.STAFF_ORIGINS;
    else process.env.STAFF_ORIGINS = saved;
  });

  // The caller check refuses without a token, like the real one: the 401 must still be readable.
  const authenticate: Authenticate = async (caller, authorization) => {
    if (caller !== 'public' && !authorization) throw new HttpProblem(401, 'unauthorized', 'Unauthorized');
    return undefined as never;
  };
  const build = (id: RouteId, run = async () => ({ status: 200, body: { ok: true }, headers: { etag: '"7"' } })) => buildHandler(id, run as never, authenticate);

  it('a staff route answers a listed origin with that origin and the exposed headers, success and 401 alike', async () => {
    process.env.STAFF_ORIGINS = `${A},${B}`;
    const handler = build('staff-me');
    const ok = await call(handler, apiEvent({ headers: { Origin: B }, token: 't' }));
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({ 'access-control-allow-origin': B, vary: 'Origin', 'access-control-expose-headers': 'x-request-id, retry-after, etag', etag: '"7"' });
    expect(ok.headers['x-request-id']).toBeTruthy();

    const refused = await call(handler, apiEvent({ headers: { origin: A } }));
    expect(refused.status).toBe(401);
    expect(refused.headers).toMatchObject({ 'access-control-allow-origin': A, vary: 'Origin', 'content-type': 'application/problem+json' });
  });

  it('a 429 with Retry-After from a staff sign-in route is readable by a listed origin', async () => {
    process.env.STAFF_ORIGINS = A;
    const handler = build('staff-sign-in', async () => {
      throw new DomainError('too-many-requests', 'too-many-requests', 'Too many attempts', { retryAfterSeconds: 30 });
    });
    const res = await call(handler, apiEvent({ method: 'POST', headers: { Origin: A }, body: { username: 'u', password: 'p' } }));
    expect(res.status).toBe(429);
    expect(res.headers).toMatchObject({ 'retry-after': '30', 'access-control-allow-origin': A, 'access-control-expose-headers': 'x-request-id, retry-after, etag' });
  });

  it('an unlisted origin gets no Access-Control-Allow-Origin (only Vary), from a staff route', async () => {
    process.env.STAFF_ORIGINS = A;
    const res = await call(build('staff-me'), apiEvent({ headers: { Origin: EVIL }, token: 't' }));
    expect(res.status).toBe(200);
    expect(res.headers.vary).toBe('Origin');
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('patient routes, lobby routes and pages answer no CORS at all, even to a listed origin', async () => {
    process.env.STAFF_ORIGINS = A;
    for (const id of ['account-get', 'patient-sign-in', 'lobby-session-current', 'portal-page', 'health'] as const) {
      const res = await call(build(id), apiEvent({ headers: { Origin: A }, token: 't' }));
      const cors = Object.keys(res.headers).filter((h) => h.startsWith('access-control-') || h === 'vary');
      expect(cors, id).toEqual([]);
    }
  });
});
