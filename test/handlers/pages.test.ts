/**
 * The page and browser-file handlers, called directly: security headers, unknown names, the
 * asset allowlist, and that nothing of a link token reaches the logs or the HTML.
 */
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as portalPage } from '../../lambdas/handlers/pages/portal.ts';
import { handler as asset } from '../../lambdas/handlers/pages/asset.ts';
import { contentSecurityPolicy } from '../../lambdas/pages/headers.ts';
import { portalPages } from '../../lib/routes/pages.ts';
import { apiEvent, lambdaContext } from '../support/events.ts';

const getPage = (page: string, query?: Record<string, string>) =>
  portalPage(apiEvent({ resource: '/portal/{page}', path: `/portal/${page}`, pathParameters: { page }, ...(query ? { query } : {}) }), lambdaContext());
const getAsset = (file: string) => asset(apiEvent({ resource: '/assets/{file}', path: `/assets/${file}`, pathParameters: { file } }), lambdaContext());

// Login and verify read the settings (issue 15 item 6): none stored here, so the defaults.
const db = mockClient(DynamoDBDocumentClient);
let stored: Record<string, unknown> | undefined;
beforeEach(() => {
  stored = undefined;
  db.reset();
  db.on(GetCommand).callsFake(async () => (stored ? { Item: { pk: 'SETTINGS', sk: 'SETTINGS', settings: stored, version: 1 } } : {}));
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /portal/{page}', () => {
  it.each(portalPages)('serves %s as HTML with the strict security headers', async (name) => {
    const res = await getPage(name);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': contentSecurityPolicy,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
    expect(contentSecurityPolicy).toContain("frame-ancestors 'none'");
    expect(contentSecurityPolicy).toContain("script-src 'self'");
    expect(res.body).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(res.body).toContain('<meta name="viewport"');
    expect(res.body).toContain('<main id="main"');
    expect(res.body).toMatch(/<h1>[^<]+<\/h1>/);
    // CSP forbids inline code: no inline script, style attribute or event handler attribute.
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(res.body).not.toMatch(/https?:\/\//); // no third-party (or absolute) asset
    expect(res.body).toContain('src="../assets/portal.js"');
  });

  it('rule 26: ignores a token in the query (the old link form): the same page as without one, and never in the page or the logs', async () => {
    const lines: string[] = [];
    process.env.LOG_LEVEL = 'info';
    vi.spyOn(process.stdout, 'write').mockImplementation((line) => {
      lines.push(String(line));
      return true;
    });
    try {
      const token = 'tok_SECRET_abcdefghijklmnopqrstuvwxyz0123456789';
      const res = await getPage('register', { token });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(token);
      expect(res.body).toBe((await getPage('register')).body);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('')).not.toContain(token);
    } finally {
      process.env.LOG_LEVEL = 'silent';
    }
  });

  it('answers an unknown page with a 404 HTML page that has the same headers', async () => {
    for (const name of ['admin', 'forced-credential-change', '__proto__', 'constructor', 'Login']) {
      const res = await getPage(name);
      expect(res.statusCode, name).toBe(404);
      expect(res.headers?.['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers?.['content-security-policy']).toBe(contentSecurityPolicy);
      expect(res.body).toContain('<h1>Page not found</h1>');
    }
  });

  it('gives every element of a page its own id (a label must point at its input)', async () => {
    for (const name of portalPages) {
      const ids = [...(await getPage(name)).body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
      expect(ids.filter((id, i) => ids.indexOf(id) !== i), name).toEqual([]);
    }
  });

  it('labels every input and names password rules before typing', async () => {
    for (const name of portalPages) {
      const body = (await getPage(name)).body;
      const ids = [...body.matchAll(/<input id="([^"]+)"/g)].map((m) => m[1]);
      expect(ids.length, name).toBeGreaterThan(0);
      for (const id of ids) expect(body, `${name} #${id}`).toContain(`<label for="${id}">`);
      for (const m of body.matchAll(/<input [^>]*type="password"[^>]*>/g)) {
        const tag = m[0];
        expect(tag).toMatch(/autocomplete="(new-password|current-password|off)"/);
        expect(Number(/maxlength="(\d+)"/.exec(tag)?.[1])).toBeGreaterThanOrEqual(128);
        expect(tag).not.toContain('pattern=');
        if (tag.includes('new-password')) expect(tag).toContain('aria-describedby=');
      }
    }
  });
});

describe('pages that say what the settings do (issue 15 item 6)', () => {
  it('login links to the email-match method only where settings.emailMatch is on; verify says it is not offered when off', async () => {
    let login = (await getPage('login')).body;
    let verify = (await getPage('verify')).body;
    expect(login).not.toContain('href="verify"');
    expect(verify).toContain('does not offer creating a login with your email');
    expect(verify).not.toContain('id="request-form"');
    // The link from a self-registration approval still works: the confirm form is there either way.
    expect(verify).toContain('id="confirm-form"');
    stored = { emailMatch: true };
    login = (await getPage('login')).body;
    verify = (await getPage('verify')).body;
    expect(login).toContain('<a href="verify">');
    expect(verify).toContain('id="request-form"');
    expect(verify).not.toContain('does not offer');
  });

  it('the reset offer after a failed sign-in is on the login page only where settings.patientReset is on', async () => {
    expect((await getPage('login')).body).toContain('id="reset-offer"');
    stored = { patientReset: false };
    const login = (await getPage('login')).body;
    expect(login).not.toContain('id="reset-offer"');
    expect(login).not.toContain('reset-request-form');
  });

  it('a practice that had selfRegistration on before emailMatch existed keeps the email-match method', async () => {
    stored = { selfRegistration: true };
    expect((await getPage('login')).body).toContain('<a href="verify">');
    stored = { selfRegistration: true, emailMatch: false };
    expect((await getPage('login')).body).not.toContain('<a href="verify">');
  });
});

describe('GET /assets/{file}', () => {
  it('serves the pages’ script and style sheet with their types, cacheable briefly, nosniff', async () => {
    const js = await getAsset('portal.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    });
    expect(js.body).toContain('history.replaceState');
    const css = await getAsset('site.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers?.['content-type']).toBe('text/css; charset=utf-8');
  });

  it('serves nothing outside the allowlist', async () => {
    for (const file of ['../assets.ts', '..%2Fassets.ts', 'assets.ts', 'portal.ts', 'Portal.js', '.hidden.js', 'portal.js.map', 'x.html', '', 'constructor', '__proto__']) {
      const res = await getAsset(file);
      expect(res.statusCode, file).toBe(404);
      expect(res.body).not.toContain('import');
    }
  });
});
