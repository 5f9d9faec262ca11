/**
 * Issue 19's pages, through the page handler: /portal/self-register offers its form only where
 * settings.selfRegistration is on (and otherwise says the practice does not offer it), the login
 * page links to it only then, and the page keeps the rules of every patient page (headers, no
 * inline code, labelled fields, buttons named for what they do, a token in the query ignored).
 */
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as portalPage } from '../../../lambdas/handlers/pages/portal.ts';
import { handler as asset } from '../../../lambdas/handlers/pages/asset.ts';
import { contentSecurityPolicy } from '../../../lambdas/pages/headers.ts';
import { settingGatedPages } from '../../../lib/routes/pages.ts';
import { openApiDocument } from '../../../lambdas/openapi/document.ts';
import { apiEvent, lambdaContext } from '../../support/events.ts';

const getPage = (page: string, query?: Record<string, string>) =>
  portalPage(apiEvent({ resource: '/portal/{page}', path: `/portal/${page}`, pathParameters: { page }, ...(query ? { query } : {}) }), lambdaContext());

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

describe('/portal/self-register', () => {
  it('is a page of the route table, named in the OpenAPI summary', () => {
    expect(settingGatedPages).toContain('self-register');
    const doc = openApiDocument() as { paths: Record<string, Record<string, { summary?: string }>> };
    expect(doc.paths['/portal/{page}']!.get!.summary).toContain('self-register');
  });

  it('where settings.selfRegistration is off (the default): 200, says it is not offered, no form, and the login page does not link to it', async () => {
    const res = await getPage('self-register');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('id="self-registration-off"');
    expect(res.body).toContain('does not offer asking for a portal login online');
    expect(res.body).not.toContain('<form');
    expect(res.body).not.toContain('<input');
    expect((await getPage('login')).body).not.toContain('href="self-register"');
    stored = { selfRegistration: false, emailMatch: true };
    expect((await getPage('self-register')).body).not.toContain('<form');
    expect((await getPage('login')).body).not.toContain('href="self-register"');
  });

  it('where it is on: the form with visible labels, the submit button "Send", and the login page links to it', async () => {
    stored = { selfRegistration: true, emailMatch: false };
    const body = (await getPage('self-register')).body;
    expect(body).not.toContain('id="self-registration-off"');
    expect(body).toContain('<form id="self-register-form" method="post" novalidate>');
    const inputs = [...body.matchAll(/<input id="([^"]+)" name="([^"]+)" type="([^"]+)" autocomplete="([^"]+)"[^>]*>/g)].map((m) => ({ id: m[1], name: m[2], type: m[3], autocomplete: m[4], tag: m[0] }));
    expect(inputs.map((i) => [i.name, i.type, i.autocomplete])).toEqual([
      ['firstName', 'text', 'given-name'],
      ['lastName', 'text', 'family-name'],
      ['dateOfBirth', 'date', 'bday'],
      ['email', 'email', 'email'],
      ['phone', 'tel', 'tel'],
    ]);
    for (const [i, label] of ['First name', 'Last name', 'Date of birth', 'Email', 'Phone (optional)'].entries()) {
      expect(body).toContain(`<label for="${inputs[i]!.id}">${label}</label>`);
    }
    // The phone is optional, the rest required; errors are shown next to the form (role="alert").
    expect(inputs.filter((i) => / required(\s|>)/.test(i.tag)).map((i) => i.name)).toEqual(['firstName', 'lastName', 'dateOfBirth', 'email']);
    expect(body).toContain('<div class="form-error" role="alert" id="self-register-form-error"></div>');
    expect([...body.matchAll(/<button type="submit"[^>]*>([^<]+)<\/button>/g)].map((m) => m[1])).toEqual(['Send']);
    // Each id once (a label must point at its input).
    const ids = [...body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const login = (await getPage('login')).body;
    expect(login).toContain('<a href="self-register">Ask for a portal login</a>');
    expect(login).not.toContain('<a href="verify">'); // emailMatch is its own setting
  });

  it('a change of the setting shows at once (read on each view)', async () => {
    expect((await getPage('self-register')).body).not.toContain('<form');
    stored = { selfRegistration: true };
    expect((await getPage('self-register')).body).toContain('<form');
    stored = { selfRegistration: false };
    expect((await getPage('self-register')).body).not.toContain('<form');
  });

  it('either way: the sections of the emailed link (verifying, verified, gone, old link) are there, since a request made before the setting changed may still be confirmed', async () => {
    for (const setting of [false, true]) {
      stored = { selfRegistration: setting };
      const body = (await getPage('self-register')).body;
      for (const state of ['request', 'requested', 'verifying', 'verified', 'gone', 'old-link']) expect(body, `${setting} ${state}`).toContain(`data-state="${state}"`);
      expect(body).toContain('Check your email');
      expect(body).toContain('waits for the practice');
    }
  });

  it('is sent with the strict security headers, loads only its own scripts, and carries no inline code', async () => {
    for (const setting of [false, true]) {
      stored = { selfRegistration: setting };
      const res = await getPage('self-register');
      expect(res.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': contentSecurityPolicy,
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
      expect(res.body).toMatch(/<h1>Ask for a portal login<\/h1>/);
      expect(res.body).toContain('src="../assets/portal.js"');
      expect(res.body).toContain('src="../assets/self-register.js"');
      expect(res.body).toContain('href="../assets/self-register.css"');
      expect(res.body).toContain('data-page="self-register"');
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.body).not.toMatch(/\sstyle=|\son[a-z]+=/i);
      expect(res.body).not.toMatch(/https?:\/\//);
    }
  });

  it('rule 26: a token in the query (an old link form) is ignored: the same page, the token nowhere in it', async () => {
    stored = { selfRegistration: true };
    const token = 'tok_SECRET_abcdefghijklmnopqrstuvwxyz0123456789';
    const res = await getPage('self-register', { token });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(token);
    expect(res.body).toBe((await getPage('self-register')).body);
  });

  it('its script is served from the allowlist, takes the token from the fragment and clears it from the address bar', async () => {
    const js = await asset(apiEvent({ resource: '/assets/{file}', path: '/assets/self-register.js', pathParameters: { file: 'self-register.js' } }), lambdaContext());
    expect(js.statusCode).toBe(200);
    expect(js.headers?.['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain('takeLinkToken()');
    expect(js.body).toContain("'self-registrations/verify'");
    // The token travels only in a POST body, never in a URL.
    expect(js.body).not.toMatch(/self-registrations\/verify[^']*\?/);
    const portal = await asset(apiEvent({ resource: '/assets/{file}', path: '/assets/portal.js', pathParameters: { file: 'portal.js' } }), lambdaContext());
    expect(portal.body).toContain('export function takeLinkToken()');
    expect(portal.body).toContain("history.replaceState(null, '', location.pathname)");
  });

  it('other names near it are still 404 pages', async () => {
    for (const name of ['self-registration', 'Self-Register', 'self-register.js', 'selfregister']) {
      expect((await getPage(name)).statusCode, name).toBe(404);
    }
  });
});
