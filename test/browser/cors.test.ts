/**
 * Issue 21, "Done when": the practice's own staff web client, on its own origin, in Chromium.
 * A page served from a second local origin that the stack lists (http://localhost:<port>, set as
 * STAFF_ORIGINS by the global setup) signs in with password and TOTP and calls staff routes,
 * reading the answers, a problem (404) and the exposed x-request-id; the same page served from an
 * origin that is not listed (http://127.0.0.1:<same port>: another origin by host) is blocked by
 * the browser itself: fetch rejects, for sign-in and for a staff route with a valid token.
 */
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshCode } from '../integration/support/staff-session.ts';
import { stack } from '../integration/support/stack.ts';
import { launchBrowser } from './support/browser.ts';

declare const document: any;

const port = inject('staffClientPort');
const allowedOrigin = `http://localhost:${port}`;
const unlistedOrigin = `http://127.0.0.1:${port}`;

let server: Server;
let browser: Browser;

/** What a staff web client page would do: fetch with JSON, bearer token, and read status, body and headers. */
interface Call {
  method?: string;
  path: string;
  body?: unknown;
  token?: string;
}
interface Seen {
  ok: boolean;
  status?: number;
  json?: any;
  requestId?: string | null;
  error?: string;
}

async function callFromPage(page: Page, call: Call): Promise<Seen> {
  return page.evaluate(
    async ({ apiUrl, call }) => {
      try {
        const headers: Record<string, string> = {};
        if (call.body !== undefined) headers['content-type'] = 'application/json';
        if (call.token) headers.authorization = `Bearer ${call.token}`;
        const res = await fetch(`${apiUrl}${call.path}`, {
          method: call.method ?? 'GET',
          headers,
          ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        });
        const text = await res.text();
        return { ok: true, status: res.status, json: text ? JSON.parse(text) : undefined, requestId: res.headers.get('x-request-id') };
      } catch (err) {
        return { ok: false, error: String(err) };
      }
    },
    { apiUrl: stack().apiUrl, call },
  );
}

async function openClientPage(origin: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${origin}/`);
  expect(await page.evaluate(() => document.title)).toBe('staff web client');
  return page;
}

beforeAll(async () => {
  // The practice's staff web client: one static page, served on both loopback names.
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>staff web client</title><p>staff web client</p>');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the staff web client on another origin (CORS)', () => {
  let token: string;

  it('from a listed origin: signs in with password and TOTP and calls staff routes, reading answers, problems and x-request-id', async () => {
    const page = await openClientPage(allowedOrigin);
    const { username, password, totpSecret } = stack().staff;

    const first = await callFromPage(page, { method: 'POST', path: '/staff/sessions', body: { username, password } });
    expect(first).toMatchObject({ ok: true, status: 200, json: { challenge: 'SOFTWARE_TOKEN_MFA' } });
    expect(first.requestId).toBeTruthy(); // exposed to the client

    const code = await freshCode(username, totpSecret);
    const second = await callFromPage(page, {
      method: 'POST',
      path: '/staff/sessions/challenge',
      body: { challenge: 'SOFTWARE_TOKEN_MFA', session: first.json.session, code },
    });
    expect(second).toMatchObject({ ok: true, status: 200 });
    token = second.json.accessToken;
    expect(token).toBeTruthy();

    const me = await callFromPage(page, { path: '/staff/me', token });
    expect(me).toMatchObject({ ok: true, status: 200, json: { username } });

    const search = await callFromPage(page, { path: '/patients?limit=5', token });
    expect(search).toMatchObject({ ok: true, status: 200 });
    expect(Array.isArray(search.json.items)).toBe(true);

    // A problem is readable too (status, body, request id), so the client can show it.
    const missing = await callFromPage(page, { path: `/patients/CORS-NONE-${Date.now()}/portal`, token });
    expect(missing).toMatchObject({ ok: true, status: 404, json: { status: 404 } });
    expect(missing.requestId).toBeTruthy();

    // And a 401 without a token.
    const anonymous = await callFromPage(page, { path: '/staff/me' });
    expect(anonymous).toMatchObject({ ok: true, status: 401 });
  });

  it('from an origin not listed: the browser blocks the calls (fetch rejects), even with a valid token', async () => {
    expect(token).toBeTruthy();
    const page = await openClientPage(unlistedOrigin);
    const { username, password } = stack().staff;
    const signIn = await callFromPage(page, { method: 'POST', path: '/staff/sessions', body: { username, password } });
    expect(signIn.ok, JSON.stringify(signIn)).toBe(false);
    expect(signIn.error).toMatch(/TypeError|Failed to fetch/);
    const me = await callFromPage(page, { path: '/staff/me', token });
    expect(me.ok, JSON.stringify(me)).toBe(false);
    expect(me.error).toMatch(/TypeError|Failed to fetch/);
  });

  it('a patient route answers no CORS even to the listed origin: the browser blocks it', async () => {
    const page = await openClientPage(allowedOrigin);
    const res = await callFromPage(page, { method: 'POST', path: '/sessions', body: { username: 'nobody', password: 'not-a-real-password' } });
    expect(res.ok, JSON.stringify(res)).toBe(false);
  });
});
