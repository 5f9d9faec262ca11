/**
 * The integration run's contract check (test/integration/support/contract-check.ts), against the
 * document GET /openapi.json serves: what it refuses, and what its documented rules exempt.
 */
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../lambdas/openapi/document.ts';
import { ContractChecker, type Received } from '../../integration/support/contract-check.ts';

const checker = new ContractChecker(openApiDocument() as never);
const answer = (method: string, url: string, status: number, body: unknown, contentType = 'application/json'): Received => ({
  method,
  url,
  status,
  contentType,
  text: typeof body === 'string' ? body : JSON.stringify(body),
});
const problem = (status: number) => ({ type: '/problems/x', title: 'X', status });

describe('the contract check', () => {
  it('passes a declared status whose body matches its schema, and a declared problem', () => {
    expect(checker.check(answer('GET', 'http://127.0.0.1:1/health', 200, { status: 'ok' }))).toBeUndefined();
    expect(checker.check(answer('GET', '/patients/P-1/portal', 404, problem(404), 'application/problem+json'))).toBeUndefined();
    expect(checker.check(answer('POST', '/staff/sessions/challenge', 200, { challenge: 'SOFTWARE_TOKEN_MFA', session: 's' }))).toBeUndefined();
  });

  it('names method, path, status and the schema error of a body its schema refuses', () => {
    expect(checker.check(answer('GET', '/health', 200, { status: 'fine' }))).toMatch(/^GET \/health answered 200: .*\/status must be equal to one of the allowed values/);
    expect(checker.check(answer('GET', '/patients/P-1/portal', 200, { patientId: 'P-1' }))).toMatch(/GET \/patients\/P-1\/portal answered 200: .*must have required property 'cases'/);
    expect(checker.check(answer('GET', '/patients/P-1/portal', 404, { message: 'no' }, 'application/problem+json'))).toMatch(/must have required property 'type'/);
  });

  it('refuses a status the path and method do not declare, and a media type the status does not declare', () => {
    expect(checker.check(answer('GET', '/health', 201, { status: 'ok' }))).toMatch(/status 201 is not declared for GET \/health/);
    expect(checker.check(answer('GET', '/patients/P-1/portal', 404, problem(404)))).toMatch(/content-type application\/json is not declared/);
    expect(checker.check(answer('GET', '/health', 200, '<p>ok</p>', 'text/html'))).toMatch(/content-type text\/html is not declared/);
  });

  it('matches literal paths before templates, and answers for unknown paths only as 404/405 problems', () => {
    expect(checker.check(answer('GET', '/staff/me', 200, { nothing: true }))).toMatch(/GET \/staff\/me answered 200: the body/);
    expect(checker.check(answer('GET', '/no/such/path', 404, problem(404), 'application/problem+json'))).toBeUndefined();
    expect(checker.check(answer('PATCH', '/health', 405, problem(405), 'application/problem+json'))).toBeUndefined();
    expect(checker.check(answer('GET', '/no/such/path', 200, {}))).toMatch(/the document has no GET \/no\/such\/path/);
  });

  it('exempts by rule: OPTIONS, /__test/, non-JSON bodies of a declared status, an empty 204', () => {
    expect(checker.check(answer('OPTIONS', '/patients', 204, ''))).toBeUndefined();
    expect(checker.check(answer('PUT', '/__test/clock', 204, ''))).toBeUndefined();
    expect(checker.check(answer('GET', '/portal/register', 200, '<html></html>', 'text/html; charset=utf-8'))).toBeUndefined();
    expect(checker.check(answer('GET', '/portal/nope', 404, '<html></html>', 'text/html; charset=utf-8'))).toBeUndefined();
    expect(checker.check(answer('DELETE', '/lobby-sessions/current', 204, ''))).toBeUndefined();
    // Not exempt: a page status the route does not declare.
    expect(checker.check(answer('GET', '/console', 404, '<html></html>', 'text/html'))).toMatch(/status 404 is not declared/);
  });
});

describe('the contract check loads its document without waiting on itself', () => {
  it('a first answer checked through a wrapped fetch (as the setup file wraps it, or a page answer in Chromium) does not deadlock on loading GET /openapi.json', async () => {
    const { createServer } = await import('node:http');
    const { vi } = await import('vitest');
    vi.resetModules();
    const document = JSON.stringify(openApiDocument());
    const server = createServer((req, res) => {
      if (req.url === '/openapi.json') res.writeHead(200, { 'content-type': 'application/json' }).end(document);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const real = globalThis.fetch;
    try {
      // Loaded before the wrap, as contract-setup.ts loads it.
      const { checkAnswer } = await import('../../integration/support/contract-check.ts');
      globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
        const res = await real(input, init);
        await checkAnswer(apiUrl, { method: 'GET', url: String(input), status: res.status, contentType: res.headers.get('content-type'), text: await res.clone().text() });
        return res;
      };
      // No fetch passed: the way browser.ts checks a page's answer.
      const outcome = await Promise.race([
        checkAnswer(apiUrl, { method: 'GET', url: `${apiUrl}/health`, status: 200, contentType: 'application/json', text: '{"status":"ok"}' }).then(() => 'checked'),
        new Promise((done) => setTimeout(() => done('deadlocked'), 5_000)),
      ]);
      expect(outcome).toBe('checked');
    } finally {
      globalThis.fetch = real;
      server.close();
    }
  });
});
