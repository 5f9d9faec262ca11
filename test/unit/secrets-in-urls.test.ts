/**
 * Rule 26: no secret travels in a URL that a server sees. Emailed links carry their token after
 * `#` (browsers never send the fragment, so no access log, trace, WAF log or Referer holds it),
 * and no route takes a secret in its path or query. The integration suite checks the emails the
 * running stack really sends (test/integration/rules.test.ts), the browser suite every request
 * the pages make (test/browser/patient-pages.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { routes as table, type Route } from '../../lib/routes.ts';
import { openApiDocument } from '../../lambdas/openapi/document.ts';
import { verifyLink } from '../../lambdas/domain/email-match.ts';
import { registrationLink } from '../../lambdas/domain/invitations.ts';
import { resetLink } from '../../lambdas/domain/resets.ts';
import * as templates from '../../lambdas/mail/templates.ts';

/** Names a path parameter or query field must not have: what they would carry is a secret. */
const secretName = /token|pin|pass|code|session|secret|otp|totp|key|credential|auth/i;

/** Every http(s) URL in an email's text and HTML (href values unescaped). */
function urlsIn(email: templates.RenderedEmail): URL[] {
  const text = `${email.text}\n${email.html.replace(/&amp;/g, '&').replace(/&quot;/g, '"')}`;
  return [...text.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => new URL(m[0]));
}

/** What a server would see of a URL: everything but the fragment. */
const sentPart = (url: URL) => `${url.origin}${url.pathname}${url.search}`;

describe('rule 26: emailed links', () => {
  const token = 'Tk_0123456789abcdefghijklmnopqrstuvwxyzABCDE';
  const builders = [
    ['invitation', registrationLink, '/portal/register'],
    ['reset', resetLink, '/portal/reset'],
    ['email-match', verifyLink, '/portal/verify'],
  ] as const;

  it.each(builders)('the %s link holds its token only after #, with no query', (_name, build, path) => {
    for (const portalUrl of ['https://portal.maple.test', 'https://portal.maple.test/', 'https://maple.test/portal-app/']) {
      const link = new URL(build(portalUrl, token));
      expect(link.pathname.endsWith(path)).toBe(true);
      expect(link.search).toBe('');
      expect(sentPart(link)).not.toContain(token);
      expect(new URLSearchParams(link.hash.slice(1)).get('token')).toBe(token);
    }
  });

  it('every email template, fed every kind of link, puts no secret in the part of any URL a server sees', () => {
    const renderers = Object.entries(templates).filter(([name, value]) => typeof value === 'function' && /Email$/.test(name));
    // A new template is covered by this test as soon as it exists.
    expect(renderers.map(([name]) => name).sort()).toEqual(
      expect.arrayContaining(['credentialsChangedEmail', 'emailMatchAmbiguousEmail', 'emailMatchEmail', 'invitationEmail', 'resetEmail']),
    );
    const pin = 'K7MX4R';
    let linksSeen = 0;
    for (const [name, render] of renderers) {
      for (const [, build] of builders) {
        const input = { practiceName: 'Maple & Oak', link: build('https://portal.maple.test', token), pin, expiresAt: '2026-12-05T10:00:00.000Z', at: '2026-12-05T10:00:00.000Z' };
        const email = (render as (i: typeof input) => templates.RenderedEmail)(input);
        for (const url of urlsIn(email)) {
          linksSeen++;
          expect(url.search, `${name}: ${url.pathname}`).toBe('');
          expect(sentPart(url), name).not.toContain(token);
          expect(sentPart(url), name).not.toContain(pin);
        }
        if (email.text.includes(token)) expect(email.text, name).toContain(`#token=${token}`);
      }
    }
    expect(linksSeen).toBeGreaterThan(0);
  });
});

describe('rule 26: the route table', () => {
  const routes: readonly Route[] = table;
  const keysOf = (schema: z.ZodMiniType | undefined): string[] => {
    if (!schema) return [];
    // Only plain object shapes, so a catch-all (record, passthrough) cannot slip a secret in.
    expect(schema).toBeInstanceOf(z.ZodMiniObject);
    const object = schema as z.ZodMiniObject;
    expect(object.def.catchall === undefined || object.def.catchall instanceof z.ZodMiniNever).toBe(true);
    return Object.keys(object.shape);
  };

  it('no route takes a secret in its path or query', () => {
    for (const r of routes) {
      const fromPath = [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      const names = [...fromPath, ...keysOf(r.request.params), ...keysOf(r.request.query)];
      for (const name of names) expect(name, `${r.method} ${r.path}: ${name}`).not.toMatch(secretName);
      // A link token is posted, never part of the address.
      expect(r.path, r.id).not.toMatch(/\{token\}|\/invitations\/\{/);
    }
  });

  it('no route whose body takes a secret is a GET, and the invitation lookup takes its token in the body', () => {
    for (const r of routes) if (r.request.body) expect(r.method, r.id).not.toBe('GET');
    const lookup = routes.find((r) => r.path === '/invitations/lookup');
    expect(lookup?.method).toBe('POST');
    expect(Object.keys((lookup!.request as { body: z.ZodMiniObject }).body.shape)).toEqual(['token']);
    expect(routes.some((r) => r.method === 'GET' && r.path.startsWith('/invitations/'))).toBe(false);
  });

  it('the OpenAPI document lists no secret among any operation’s path or query parameters', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    let parameters = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const p of operation.parameters ?? []) {
          if (p.in !== 'path' && p.in !== 'query') continue;
          parameters++;
          expect(p.name, `${method.toUpperCase()} ${path}`).not.toMatch(secretName);
        }
      }
    }
    expect(parameters).toBeGreaterThan(0);
  });
});
