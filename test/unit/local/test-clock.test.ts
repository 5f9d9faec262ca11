/**
 * The handlers' clock is passed in by the local stack (issue 14 item 5: no test seam read from
 * globalThis): the test clock moves only when PUT /__test/clock asks, and only a server given a
 * test clock answers that path.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { setClock, systemClock } from '../../../lambdas/adapters/deps.ts';
import { createApiServer, type RouteEntry } from '../../../lib/local/server.ts';
import { testClock, type TestClock } from '../../../lib/local/test-clock.ts';

const HOUR = 3_600_000;
const routes: RouteEntry[] = [{ id: 'echo-get', method: 'GET', path: '/items/{itemId}', entry: 'test/unit/local/fixtures/echo.ts' }];
const servers: Server[] = [];

afterEach(async () => {
  setClock();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function serve(clock?: TestClock): Promise<string> {
  const server = createApiServer(routes, { testClock: clock });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const near = (actual: Date, expected: number) => expect(Math.abs(actual.getTime() - expected)).toBeLessThan(5_000);

describe('the handlers\' clock', () => {
  it('is the real time unless the local stack passes one in, and back to it when taken away', () => {
    near(systemClock(), Date.now());
    const clock = testClock();
    setClock(clock.now);
    clock.setOffset(2 * HOUR);
    near(systemClock(), Date.now() + 2 * HOUR);
    setClock();
    near(systemClock(), Date.now());
  });

  it('PUT /__test/clock moves the test clock the server was given, and refuses a non-number', async () => {
    const clock = testClock();
    setClock(clock.now);
    const url = await serve(clock);
    const put = (body: string) => fetch(`${url}/__test/clock`, { method: 'PUT', body });
    expect((await put(JSON.stringify({ offsetMs: 24 * HOUR }))).status).toBe(204);
    near(systemClock(), Date.now() + 24 * HOUR);
    expect((await put(JSON.stringify({ offsetMs: 'soon' }))).status).toBe(400);
    expect((await put('not json')).status).toBe(400);
    near(systemClock(), Date.now() + 24 * HOUR);
    expect((await put(JSON.stringify({ offsetMs: 0 }))).status).toBe(204);
    near(systemClock(), Date.now());
  });

  it('a server without a test clock (npm start) does not know the path, and the clock stays real', async () => {
    const url = await serve();
    const res = await fetch(`${url}/__test/clock`, { method: 'PUT', body: JSON.stringify({ offsetMs: 24 * HOUR }) });
    expect(res.status).toBe(404);
    near(systemClock(), Date.now());
  });
});
