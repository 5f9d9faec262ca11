/**
 * The local API gateway over real HTTP, with test handlers (fixtures/) instead of the project's:
 * how a request becomes an event, how a result becomes a response, and what it answers itself.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiServer, createRouter, MAX_BODY_BYTES, type RouteEntry } from '../../../lib/local/server.ts';

const fixture = (name: string) => `test/unit/local/fixtures/${name}.ts`;
const routes: RouteEntry[] = [
  { id: 'echo-get', method: 'GET', path: '/items/{itemId}', entry: fixture('echo') },
  { id: 'echo-post', method: 'POST', path: '/items/{itemId}', entry: fixture('echo') },
  { id: 'echo-special', method: 'GET', path: '/items/special', entry: fixture('echo') },
  { id: 'throws', method: 'GET', path: '/throws', entry: fixture('throws') },
  { id: 'garbage', method: 'GET', path: '/garbage', entry: fixture('garbage') },
  { id: 'no-handler', method: 'GET', path: '/no-handler', entry: fixture('no-handler') },
  { id: 'result', method: 'GET', path: '/result', entry: fixture('result') },
];

let server: Server;
let port: number;

beforeAll(async () => {
  server = createApiServer(routes);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: any;
}

/** node:http rather than fetch: header names go out exactly as written here. */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const json = /json/.test(res.headers['content-type'] ?? '') && buf.length > 0 ? JSON.parse(buf.toString()) : undefined;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('request → event', () => {
  it('builds the REST v1 proxy event from the request', async () => {
    const res = await send('GET', '/items/a%20b%2Fc?q=x&q=y%21', { 'X-Custom': 'one', Accept: 'application/json' });
    expect(res.status).toBe(200);
    const { event, context } = res.json;
    expect(event).toMatchObject({
      resource: '/items/{itemId}',
      path: '/items/a%20b%2Fc',
      httpMethod: 'GET',
      pathParameters: { itemId: 'a b/c' },
      queryStringParameters: { q: 'y!' },
      multiValueQueryStringParameters: { q: ['x', 'y!'] },
      headers: { 'X-Custom': 'one', Accept: 'application/json' },
      multiValueHeaders: { 'X-Custom': ['one'] },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        stage: 'local',
        resourcePath: '/items/{itemId}',
        httpMethod: 'GET',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(event.requestContext.requestTimeEpoch - Date.now())).toBeLessThan(5000);
    expect(context.functionName).toBe('echo-get');
    expect(context.awsRequestId).not.toBe(event.requestContext.requestId);
    expect(context.remainingMs).toBeGreaterThan(28_000);
  });

  it('prefers a static path over a parameter', async () => {
    expect((await send('GET', '/items/special')).json.context.functionName).toBe('echo-special');
  });

  it('passes a JSON body as text and a binary body as base64', async () => {
    const json = await send('POST', '/items/1', { 'Content-Type': 'application/json' }, Buffer.from('{"a":"é"}'));
    expect(json.json.event).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });
    const bytes = Buffer.from([0, 159, 146, 150, 255]);
    const binary = await send('POST', '/items/1', { 'Content-Type': 'application/octet-stream' }, bytes);
    expect(binary.json.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.json.event.body, 'base64')).toEqual(bytes);
  });

  it('passes a body of exactly 10 MiB to the handler', async () => {
    const res = await send('POST', '/items/1', { 'Content-Type': 'text/plain' }, Buffer.alloc(MAX_BODY_BYTES, 'a'));
    expect(res.status).toBe(200);
    expect(res.json.event.body).toBe(`<${MAX_BODY_BYTES} chars>`);
  });
});

describe('result → response', () => {
  it('merges headers and multiValueHeaders (multi-value wins) and defaults Content-Type to JSON', async () => {
    const res = await send('GET', '/result?shape=headers');
    expect(res.status).toBe(201);
    expect(res.headers['x-one']).toBe('from-headers');
    expect(res.headers['x-two']).toBe('a, b');
    expect(res.headers['x-num']).toBe('7');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('decodes a base64 body', async () => {
    const res = await send('GET', '/result?shape=binary');
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.body).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('sends an empty body for 204', async () => {
    const res = await send('GET', '/result');
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
  });
});

describe('what the gateway answers itself', () => {
  const expectProblem = (res: Reply, status: number, type: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json).toMatchObject({ type, status, title: expect.any(String) });
  };

  it('404 for an unknown path, 405 with Allow for a wrong method', async () => {
    expectProblem(await send('GET', '/nowhere'), 404, '/problems/not-found');
    expectProblem(await send('GET', '/items/1/extra'), 404, '/problems/not-found');
    const res = await send('DELETE', '/items/1');
    expectProblem(res, 405, '/problems/method-not-allowed');
    expect(res.headers.allow).toBe('GET, POST');
  });

  it('400 for a path that is not validly percent-encoded', async () => {
    expectProblem(await send('GET', '/items/%E0%A4%A'), 400, '/problems/bad-request');
  });

  it('413 for a body over 10 MiB, whether declared or chunked', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1);
    expectProblem(await send('POST', '/items/1', { 'Content-Type': 'text/plain' }, big), 413, '/problems/payload-too-large');
    const chunked = await send('POST', '/items/1', { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' }, big);
    expectProblem(chunked, 413, '/problems/payload-too-large');
  });

  it.each([
    ['a handler that throws', '/throws'],
    ['a result that is not a proxy result', '/garbage'],
    ['a module without a handler', '/no-handler'],
  ])('500 for %s, with the request id and a JSON log line, no internals in the body', async (_name, path) => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const res = await send('GET', path);
      expectProblem(res, 500, '/problems/internal-error');
      expect(res.json.requestId).toBe(res.headers['x-request-id']);
      expect(res.body.toString()).not.toMatch(/secret|\.ts|at /);
      const line = JSON.parse(String(logged.mock.calls.at(-1)?.[0])) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 'error', requestId: res.headers['x-request-id'] });
    } finally {
      logged.mockRestore();
    }
  });
});

describe('createRouter', () => {
  it('refuses two routes with the same method and path', () => {
    const r: RouteEntry = { id: 'a', method: 'GET', path: '/x', entry: 'x.ts' };
    expect(() => createRouter([r, { ...r, id: 'b' }])).toThrow(/two routes/);
  });

  it('matches a greedy {proxy+} parameter across segments', () => {
    const router = createRouter([{ id: 'p', method: 'GET', path: '/files/{path+}', entry: 'x.ts' }]);
    expect(router.match('/files/a/b/c')?.template).toBe('/files/{path+}');
    expect(router.match('/files')).toBeUndefined();
  });
});
