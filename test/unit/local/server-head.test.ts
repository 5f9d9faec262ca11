/**
 * The response head written in one writeHead (lib/local/server.ts writeResult, issue 16 item 5):
 * a result naming a header node refuses to send is still a whole 500 problem (its own status
 * line and reason, no header of the refused result, nothing injected), and a well-formed result
 * keeps one line per header whatever the case of its names.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type RouteEntry } from '../../../lib/local/server.ts';

const routes: RouteEntry[] = [
  { id: 'bad-header', method: 'GET', path: '/bad-header', entry: 'test/unit/local/fixtures/bad-header.ts' },
  { id: 'result', method: 'GET', path: '/result', entry: 'test/unit/local/fixtures/result.ts' },
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

function get(path: string): Promise<{ status: number; reason: string; raw: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', raw: res.rawHeaders, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the response head, in one write', () => {
  it('a header node refuses: a whole 500 problem, never the 200 head or the injected line', async () => {
    const res = await get('/bad-header');
    expect(res.status).toBe(500);
    expect(res.reason).toBe('Internal Server Error');
    const names = res.raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names).not.toContain('x-bad');
    expect(names).not.toContain('injected');
    expect(JSON.parse(res.body)).toMatchObject({ type: '/problems/internal-error', status: 500 });
  });

  it('one line per header name (any case), the multi-value one repeated, content-length exact', async () => {
    const res = await get('/result?shape=headers');
    const lines = res.raw.reduce<[string, string][]>((acc, v, i) => (i % 2 === 0 ? [...acc, [v.toLowerCase(), res.raw[i + 1]!]] : acc), []);
    expect(lines.filter(([n]) => n === 'x-two').map(([, v]) => v)).toEqual(['a', 'b']);
    expect(lines.filter(([n]) => n === 'set-cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2']);
    expect(lines.filter(([n]) => n === 'content-type')).toEqual([['content-type', 'application/json']]);
    expect(lines.filter(([n]) => n === 'content-length')).toEqual([['content-length', String(Buffer.byteLength(res.body))]]);
  });
});
