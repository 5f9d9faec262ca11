/**
 * The local server answers a CORS preflight for the staff paths from the same route table and the
 * same module as the stack's OPTIONS mock (lambdas/http/cors.ts): 204, the listed origin named
 * back, never `*`; nothing for an unlisted origin; and no preflight on patient paths or pages
 * (405 with no CORS header, as API Gateway answers a method it does not have).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../../lib/local/server.ts';
import { routes } from '../../../lib/routes.ts';

const ALLOWED = 'http://localhost:5173';
let server: Server;
let base: string;

beforeAll(async () => {
  server = createApiServer(routes, { staffOrigins: [ALLOWED, 'https://ehr.practice.org'] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const preflight = (path: string, origin: string, method = 'PUT') =>
  fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type,if-match' },
  });

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((h) => h.startsWith('access-control-') || h === 'vary');

describe('local server: CORS preflight', () => {
  it('a staff path answers a listed origin: 204, that origin, the methods and headers of its routes, a max age, Vary', async () => {
    const res = await preflight('/patients/P-1/portal', ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, PUT');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type, if-match');
    expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(res.headers.get('vary')).toBe('Origin');
    expect(await res.text()).toBe('');
  });

  it('the staff sign-in routes answer a preflight too', async () => {
    for (const path of ['/staff/sessions', '/staff/sessions/challenge']) {
      const res = await preflight(path, 'https://ehr.practice.org', 'POST');
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('https://ehr.practice.org');
      expect(res.headers.get('access-control-allow-methods'), path).toBe('POST');
    }
  });

  it('an unlisted origin (even the same host on another port or name) gets no Access-Control-Allow-*', async () => {
    for (const origin of ['http://localhost:5174', 'http://127.0.0.1:5173', 'https://evil.example', 'null']) {
      const res = await preflight('/patients/P-1/portal', origin);
      expect(res.status, origin).toBe(204);
      expect(corsHeaders(res), origin).toEqual(['vary']);
    }
  });

  it('patient routes, lobby routes and pages answer no preflight and no CORS header at all', async () => {
    for (const path of ['/sessions', '/account', '/account/credentials', '/lobby-sessions/current', '/invitations/lookup', '/portal/sign-in', '/console', '/assets/console.js', '/health', '/openapi.json']) {
      const res = await preflight(path, ALLOWED, 'POST');
      expect(res.status, path).toBe(405);
      expect(corsHeaders(res), path).toEqual([]);
    }
  });
});
