/**
 * The load script's own machinery (bench/load/*), against a tiny fake API on a free port: the
 * flows send what the contract expects, every answer is counted on its own route, confirmed
 * writes land in the ledger, and the mailbox links join the PINs in either order.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { routes, runFlows } from '../../../bench/load/flows.ts';
import { Ledger } from '../../../bench/load/ledger.ts';
import { patientFor, type Registered } from '../../../bench/load/prepare.ts';
import { LoadStats, percentile, statusClass } from '../../../bench/load/stats.ts';
import { verifyWrites } from '../../../bench/load/verify.ts';
import { judge } from '../../../bench/load/judge.ts';
import type { Call } from '../../../bench/load/client.ts';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let apiUrl: string;
let seen: Seen[];
/** Status the fake answers for POST /credential-resets (to see a 5xx land on its route). */
let resetStatus: number;

beforeEach(async () => {
  seen = [];
  resetStatus = 202;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      const send = (status: number, json: unknown = {}) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.method === 'POST' && path === '/sessions') return send(200, { accessToken: 'a' });
      if (req.method === 'PUT' && /^\/patients\/[^/]+\/portal$/.test(path)) return send(200);
      if (req.method === 'POST' && /^\/patients\/[^/]+\/portal\/invitation$/.test(path)) return send(201, { pin: 'ABCDEF' });
      if (req.method === 'POST' && path === '/invitations/lookup') return send(200);
      if (req.method === 'POST' && path === '/registrations') return send(201, { accountId: `acc-${seen.length}` });
      if (req.method === 'POST' && path === '/credential-resets') return send(resetStatus);
      if (req.method === 'GET' && path === '/health') return send(200);
      return send(404);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const accounts: Registered[] = [0, 1, 2].map((n) => ({ ...patientFor('acct', n), username: `user${n}`, password: `password-number-${n}-long`, accountId: `a${n}` }));

async function run(ledger = new Ledger()) {
  const stats = new LoadStats();
  ledger.addReady([0, 1, 2, 3].map((n) => ({ ...patientFor('buf', n), pin: 'PIN234', token: `token${n}` })));
  const flows = await runFlows({ apiUrl, seconds: 1, staffToken: 'staff-token', accounts, ledger, stats });
  const byRoute = Object.fromEntries(stats.summary(1).map((r) => [r.route, r]));
  return { flows, byRoute, ledger };
}

describe('bench/load flows', () => {
  it('runs every flow, and counts each answer on the route that gave it', async () => {
    const { flows, byRoute } = await run();
    expect(flows.map((f) => [f.flow, f.errors])).toEqual([['sign-in', 0], ['invite', 0], ['register', 0], ['reset', 0]]);
    const count = (method: string, test: (path: string) => boolean) => seen.filter((s) => s.method === method && test(s.path)).length;
    // Answers still in flight when the run ends are dropped by autocannon, so allow a few per flow.
    const close = (counted: number, sent: number) => {
      expect(counted).toBeGreaterThan(0);
      expect(sent - counted).toBeGreaterThanOrEqual(0);
      expect(sent - counted).toBeLessThanOrEqual(4);
    };
    close(byRoute[routes.signIn]!.byClass['2xx'], count('POST', (p) => p === '/sessions'));
    close(byRoute[routes.recordPut]!.byClass['2xx'], count('PUT', (p) => p.endsWith('/portal')));
    close(byRoute[routes.invite]!.byClass['2xx'], count('POST', (p) => p.endsWith('/invitation')));
    close(byRoute[routes.reset]!.byClass['2xx'], count('POST', (p) => p === '/credential-resets'));
    for (const r of Object.values(byRoute)) expect(r.unexpected).toEqual({});
  });

  it('sends the invitation POST without a body or a stale Content-Length, with the staff token on both invite requests', async () => {
    const { ledger } = await run();
    const invites = seen.filter((s) => s.path.endsWith('/invitation'));
    expect(invites.length).toBeGreaterThan(0);
    for (const s of invites) {
      expect(s.body).toBe('');
      expect(Number(s.headers['content-length'] ?? 0)).toBe(0);
      expect(s.headers.authorization).toBe('Bearer staff-token');
    }
    for (const s of seen.filter((x) => x.method === 'PUT')) {
      expect(s.headers.authorization).toBe('Bearer staff-token');
      const patientId = /^\/patients\/([^/]+)\/portal$/.exec(s.path)![1]!;
      expect(JSON.parse(s.body)).toEqual({ email: patientFor('inv', Number(patientId.split('-').at(-1))).email, cases: ['LOAD-1'] });
    }
    // Every 201 is in the ledger, to be checked afterwards.
    expect(ledger.invitations.size).toBeGreaterThanOrEqual(invites.length - 2);
  });

  it('signs in round robin over the accounts with their own passwords, and registers each ready invitation once', async () => {
    const { ledger } = await run();
    const signIns = seen.filter((s) => s.path === '/sessions').map((s) => JSON.parse(s.body) as { username: string; password: string });
    expect(signIns.length).toBeGreaterThan(3);
    // Bodies are built in turn; four connections may deliver them slightly out of order.
    const perAccount = accounts.map((a) => signIns.filter((b) => b.username === a.username && b.password === a.password).length);
    expect(perAccount.reduce((x, y) => x + y)).toBe(signIns.length);
    expect(Math.max(...perAccount) - Math.min(...perAccount)).toBeLessThanOrEqual(4);

    // rule 26: the link's token goes in the lookup's body, never in a URL.
    const lookups = seen.filter((s) => s.path === '/invitations/lookup');
    expect(lookups.length).toBeGreaterThan(0);
    for (const l of lookups) expect(['token0', 'token1', 'token2', 'token3']).toContain((JSON.parse(l.body) as { token: string }).token);
    for (const s of seen) expect(s.path).not.toMatch(/token\d/);

    const registrations = seen.filter((s) => s.path === '/registrations').map((s) => JSON.parse(s.body) as Record<string, string>);
    const tokens = registrations.map((r) => r.token);
    expect(tokens.length).toBeGreaterThan(0);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const t of tokens) expect(['token0', 'token1', 'token2', 'token3']).toContain(t);
    for (const r of registrations) expect(r).toEqual({ token: r.token, pin: 'PIN234', username: expect.any(String), password: expect.any(String) });
    expect(new Set(registrations.map((r) => r.username)).size).toBe(registrations.length);
    for (const r of registrations) expect(r.password!.length).toBeGreaterThanOrEqual(15);
    for (const r of ledger.registrations.values()) expect(registrations.map((x) => x.username)).toContain(r.username);
    // Out of invitations, the register flow idles on /health instead of sending a POST without one.
    const fillers = seen.filter((s) => s.path === '/health').length;
    expect(fillers).toBeGreaterThan(0);
    expect(fillers).toBeLessThanOrEqual(ledger.starved);
  });

  it('puts a 5xx on the route that answered it', async () => {
    resetStatus = 503;
    const { byRoute } = await run();
    expect(byRoute[routes.reset]!.byClass['5xx']).toBeGreaterThan(0);
    expect(byRoute[routes.reset]!.unexpected).toEqual({ 503: byRoute[routes.reset]!.byClass['5xx'] });
    for (const route of [routes.signIn, routes.recordPut, routes.invite]) expect(byRoute[route]!.byClass['5xx']).toBe(0);
  });
});

describe('bench/load ledger', () => {
  it('joins an invitation PIN and its emailed link whichever arrives first', () => {
    const ledger = new Ledger();
    const a = patientFor('inv', 1);
    const b = patientFor('inv', 2);
    ledger.invited(a, 'PINAAA');
    ledger.linkArrived(b.email, 'link-b');
    expect(ledger.readyCount).toBe(0);
    ledger.linkArrived(a.email, 'link-a');
    ledger.invited(b, 'PINBBB');
    expect([ledger.takeReady(), ledger.takeReady()]).toEqual([
      { ...a, pin: 'PINAAA', token: 'link-a' },
      { ...b, pin: 'PINBBB', token: 'link-b' },
    ]);
    expect(ledger.takeReady()).toBeUndefined();
    expect(ledger.starved).toBe(1);
    expect([...ledger.invitations]).toEqual([a.patientId, b.patientId]);
  });
});

describe('bench/load stats', () => {
  it('classes 429 apart from 4xx, and takes nearest-rank percentiles', () => {
    expect([200, 302, 401, 429, 500, 503].map(statusClass)).toEqual(['2xx', '3xx', '4xx', '429', '5xx', '5xx']);
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 99), percentile(xs, 100), percentile([7], 99)]).toEqual([50, 99, 100, 7]);
    const stats = new LoadStats();
    stats.record('r', 429, 5, [200]);
    stats.record('r', 401, 5, [200]);
    stats.record('r', 200, 5, [200]);
    expect(stats.summary(1)[0]).toMatchObject({ requests: 3, byClass: { '2xx': 1, '4xx': 1, '429': 1 }, unexpected: { 401: 1 } });
  });
});

describe('bench/load verifyWrites', () => {
  const record = (over: Record<string, unknown>) => ({ registration: 'NotRegistered', invite: { status: 'Pending' }, statusMessage: 's', ...over });

  it('finds a confirmed write that is not there, and passes those that are', async () => {
    const ledger = new Ledger();
    const [kept, lostRecord, lostInvite, registered, cannotSignIn] = [1, 2, 3, 4, 5].map((n) => patientFor('v', n));
    for (const p of [kept, lostRecord, lostInvite, registered, cannotSignIn]) ledger.records.set(p!.patientId, p!.email);
    for (const p of [kept, lostInvite, registered, cannotSignIn]) ledger.invitations.add(p!.patientId);
    ledger.registrations.set(registered!.patientId, { ...registered!, username: 'ok', password: 'pw-ok-long-enough', accountId: 'acc-4' });
    ledger.registrations.set(cannotSignIn!.patientId, { ...cannotSignIn!, username: 'nope', password: 'pw-nope-long-enough', accountId: 'acc-5' });
    const records: Record<string, unknown> = {
      [kept!.patientId]: record({ email: kept!.email }),
      [lostInvite!.patientId]: record({ email: lostInvite!.email, invite: { status: 'None' } }),
      [registered!.patientId]: record({ email: registered!.email, registration: 'NormalRegistration', accountId: 'acc-4', invite: { status: 'Accepted' } }),
      [cannotSignIn!.patientId]: record({ email: cannotSignIn!.email, registration: 'NormalRegistration', accountId: 'acc-5', invite: { status: 'Accepted' } }),
    };
    const call = (async (method: string, path: string, options: { body?: { username: string } } = {}) => {
      if (method === 'GET') {
        const found = records[path.split('/')[2]!];
        return found ? { status: 200, json: found } : { status: 404, json: {} };
      }
      return options.body?.username === 'ok' ? { status: 200, json: { accessToken: 't' } } : { status: 401, json: {} };
    }) as Call;

    const result = await verifyWrites(call, 'staff', ledger);
    expect(result).toMatchObject({ recordsChecked: 5, invitationsChecked: 4, registrationsChecked: 2 });
    expect(result.problems.sort()).toEqual(
      [
        `${lostRecord!.patientId}: GET record answered 404`,
        `${lostInvite!.patientId}: invited (201) but the invitation is None, not Pending`,
        `${cannotSignIn!.patientId}: registered (201) but its sign-in answered 401`,
      ].sort(),
    );
    // Problem lines name patients only, never an email, username or password.
    expect(result.problems.join(' ')).not.toMatch(/@|nope|pw-/);
  });
});

describe('bench/load judge', () => {
  const flows = [{ flow: 'sign-in', connections: 4, errors: 0, timeouts: 0 }];
  const clean = { recordsChecked: 1, invitationsChecked: 1, registrationsChecked: 1, problems: [] as string[] };
  const summarise = (records: [number, number[]][]) => {
    const stats = new LoadStats();
    for (const [status, expected] of records) stats.record('POST /sessions', status, 10, expected);
    return stats.summary(1);
  };

  it('passes 2xx and 429, and fails on a 5xx, an unexpected answer, an unanswered request or a lost write', () => {
    expect(judge(summarise([[200, [200]], [429, [200]]]), flows, clean)).toEqual([]);
    expect(judge(summarise([[200, [200]], [503, [200]]]), flows, clean)).toEqual(['POST /sessions: 1 answers 5xx', 'POST /sessions: 1 unexpected 503']);
    expect(judge(summarise([[401, [200]]]), flows, clean)).toEqual(['POST /sessions: 1 unexpected 401']);
    expect(judge(summarise([]), [{ ...flows[0]!, errors: 2, timeouts: 1 }], clean)).toEqual(['sign-in: 2 requests without an answer (1 timed out)']);
    expect(judge(summarise([]), flows, { ...clean, problems: ['P-1: lost'] })).toEqual(['1 lost writes']);
  });
});
