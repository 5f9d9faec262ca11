/**
 * Part 2 and 3 of `npm run bench`: each flow driven through the local server with autocannon,
 * the AWS calls each request made (counted by ./instrument.ts), and the same calls replayed
 * directly with the SDK against the same emulators right after, in the same run.
 *
 * One connection, one request at a time: that is what a patient's request costs, the recorded
 * calls belong to exactly one request, and the per-address limits of rule 6 (which count failures,
 * and each request here succeeds) are never reached, so production rules need no bench switch.
 */
import autocannon from 'autocannon';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SESClient } from '@aws-sdk/client-ses';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StackInfo } from '../../lib/local/stack.ts';
import { localCredentials, localRegion } from '../../lib/local/aws.ts';
import { beginRequest, callTime, isDynamoWrite, ownClient, stopRecording, type Call, type Service } from './instrument.ts';
import { median, percentile } from './stats.ts';
import { staffAccessToken } from './staff-totp.ts';

export interface FlowResult {
  flow: string;
  route: string;
  requests: number;
  statuses: Record<string, number>;
  /** autocannon's latency, ms. */
  p50: number;
  p99: number;
  /** The same AWS calls made directly with the SDK, per request, ms. */
  rawP50: number;
  rawP99: number;
  /**
   * The request's own calls, timed as they ran inside it (union of their intervals), ms. The
   * replay above repeats writes whose conditions now fail (the record moved on), which DynamoDB
   * answers without writing: for a flow that writes, this is the fairer raw.
   */
  callsP50: number;
  callsP99: number;
  /** Calls per request (the most common count; min–max when requests differ). */
  calls: Record<Service, number>;
  callsRange: Record<Service, [number, number]>;
  /** The operations of one typical request, in order. */
  ops: string[];
  /** Reads made twice within one request (same table/pool and key). */
  repeatedReads: string[];
  /** DynamoDB write requests in one request (a transaction counts once). */
  dynamoWriteRequests: number;
}

export interface BenchApi {
  info: StackInfo;
  /** One request through the local server, outside any measurement. */
  call: (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; json: Record<string, unknown> }>;
}

export function benchApi(info: StackInfo): BenchApi {
  return {
    info,
    async call(method, path, body, token) {
      const res = await fetch(new URL(path, info.apiUrl), {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
  };
}

interface Step {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  token?: string;
}

/** Clients for the replay, built like the handlers' (local endpoints) and never counted. */
export function replayClients(info: StackInfo, sesEndpoint: string) {
  const base = { region: localRegion, credentials: localCredentials };
  const dynamodb = ownClient(new DynamoDBClient({ ...base, endpoint: info.dynamodbEndpoint }));
  return {
    dynamodb,
    'dynamodb-doc': ownClient(DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } })),
    cognito: ownClient(new CognitoIdentityProviderClient({ ...base, endpoint: info.cognitoEndpoint })),
    ses: ownClient(new SESClient({ ...base, endpoint: sesEndpoint })),
    // The local stack seals PINs with a key file, not KMS: no KMS call is ever recorded to replay.
    kms: ownClient(new KMSClient({ ...base, endpoint: 'http://127.0.0.1:9' })),
  };
}
export type ReplayClients = ReturnType<typeof replayClients>;

/**
 * Replays one request's calls in order, directly. Writes replayed a second time may now fail a
 * condition (the record moved on); DynamoDB still does the same round trip, so the time stands.
 */
async function replay(clients: ReplayClients, calls: Call[]): Promise<number> {
  const t = performance.now();
  for (const c of calls) {
    const client = clients[c.replay.client] as { send: (command: unknown) => Promise<unknown> };
    try {
      await client.send(new c.replay.ctor(c.replay.input));
    } catch {
      // a refused replay is still a round trip
    }
  }
  return performance.now() - t;
}

const services: Service[] = ['dynamodb', 'cognito', 'ses', 'kms'];

const mode = (xs: number[]) => {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
};

/**
 * Runs `steps` (one per request, in order) through autocannon on one connection, then replays
 * each request's AWS calls directly. `expect` lists the statuses that count as success.
 */
export async function runFlow(
  flow: string,
  route: string,
  apiUrl: string,
  steps: Step[],
  expect: number[],
  clients: ReplayClients,
  onBody?: (index: number, status: number, body: string) => void,
): Promise<FlowResult> {
  const groups: Call[][] = [];
  const statuses: Record<string, number> = {};
  let answered = 0;
  // One prebuilt request per step, walked in order on one connection: request i+1 leaves only
  // after response i, so the calls recorded in between belong to request i+1.
  groups.push(beginRequest());
  const result = await autocannon({
    url: apiUrl,
    connections: 1,
    pipelining: 1,
    amount: steps.length,
    timeout: 30,
    requests: steps.map((step) => ({
      method: step.method,
      path: step.path,
      headers: {
        ...(step.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(step.token ? { authorization: `Bearer ${step.token}` } : {}),
      },
      ...(step.body === undefined ? {} : { body: JSON.stringify(step.body) }),
      onResponse: (status: number, body: string) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
        // Not `onBody?.(answered++, …)`: an optional call skips evaluating its arguments.
        const index = answered++;
        onBody?.(index, status, body);
        if (answered < steps.length) groups.push(beginRequest());
      },
    })),
  });
  stopRecording();
  const bad = Object.entries(statuses).filter(([s]) => !expect.includes(Number(s)));
  if (bad.length) throw new Error(`${flow}: unexpected answers ${JSON.stringify(statuses)}`);
  if (answered !== steps.length) throw new Error(`${flow}: ${answered} answers for ${steps.length} requests (${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx)`);

  const raw: number[] = [];
  for (const g of groups) raw.push(await replay(clients, g));

  const perService = (s: Service) => groups.map((g) => g.filter((c) => c.service === s).length);
  const calls = Object.fromEntries(services.map((s) => [s, mode(perService(s))])) as Record<Service, number>;
  const callsRange = Object.fromEntries(services.map((s) => [s, [Math.min(...perService(s)), Math.max(...perService(s))]])) as Record<Service, [number, number]>;
  const typical = groups.find((g) => services.every((s) => g.filter((c) => c.service === s).length === calls[s])) ?? groups[0] ?? [];
  const repeatedReads = new Set<string>();
  for (const g of groups) {
    const seen = new Set<string>();
    for (const c of g) {
      if (!c.readKey) continue;
      // Shown as a pattern (ids and hashes replaced): which read repeats, not whose.
      if (seen.has(c.readKey)) repeatedReads.add(`${c.op} ${c.readKey.replace(/#[^"]+"/g, '#…"').replace(/"[0-9a-f-]{20,}"/g, '"…"')}`);
      seen.add(c.readKey);
    }
  }
  return {
    flow,
    route,
    requests: steps.length,
    statuses,
    p50: result.latency.p50,
    p99: result.latency.p99,
    rawP50: median(raw),
    rawP99: percentile(raw, 99),
    callsP50: median(groups.map(callTime)),
    callsP99: percentile(groups.map(callTime), 99),
    calls,
    callsRange,
    ops: typical.map((c) => `${c.service}:${c.op}${c.what ? `(${c.what})` : ''}${c.failed ? ' FAILED' : ''}`),
    repeatedReads: [...repeatedReads],
    dynamoWriteRequests: typical.filter(isDynamoWrite).length,
  };
}

/** Every email so far, from aws-ses-v2-local's store. */
export async function emails(mailboxUrl: string): Promise<{ to: string; subject: string; text: string }[]> {
  const res = await fetch(new URL('/store', mailboxUrl));
  const { emails: all } = (await res.json()) as { emails: { destination: { to: string[] }; subject: string; body: { text?: string } }[] };
  return all.map((e) => ({ to: e.destination.to[0] ?? '', subject: e.subject, text: e.body.text ?? '' }));
}

/** The newest email to each address whose subject matches. */
export async function newestTo(mailboxUrl: string, subject: RegExp): Promise<Map<string, string>> {
  const byTo = new Map<string, string>();
  for (const e of await emails(mailboxUrl)) if (subject.test(e.subject)) byTo.set(e.to, e.text);
  return byTo;
}

export interface FlowPlan {
  requests: number;
  runId: string;
  onFlow?: (flow: string) => void;
}

const password = 'lantern orchard pebble violin';
const newPassword = 'harbour meadow copper kettle';

/**
 * The flows, in the order their data needs: records → invitations → registrations → sign-ins →
 * lobby issue → lobby sign-in → staff sign-in → reset request → reset confirm. Each patient is used once per flow.
 */
export async function runFlows(api: BenchApi, clients: ReplayClients, plan: FlowPlan): Promise<FlowResult[]> {
  const { info } = api;
  const n = plan.requests;
  const staff = await staffAccessToken((path, body) => api.call('POST', path, body), info.staff);
  const ids = Array.from({ length: n }, (_, i) => `B${plan.runId}-${i}`);
  const email = (i: number) => `b${plan.runId}-${i}@example.test`.toLowerCase();
  const username = (i: number) => `b${plan.runId}.${i}`.toLowerCase();
  const results: FlowResult[] = [];
  const run = async (flow: string, route: string, steps: Step[], expect: number[], onBody?: Parameters<typeof runFlow>[6]) => {
    plan.onFlow?.(flow);
    const r = await runFlow(flow, route, info.apiUrl, steps, expect, clients, onBody);
    results.push(r);
    return r;
  };

  await run(
    'record write',
    'PUT /patients/{id}/portal',
    ids.map((id, i) => ({ method: 'PUT', path: `/patients/${id}/portal`, body: { email: email(i), cases: ['C-1'] }, token: staff })),
    [200, 201],
  );
  await run('record read', 'GET /patients/{id}/portal', ids.map((id) => ({ method: 'GET', path: `/patients/${id}/portal`, token: staff })), [200]);

  const pins: string[] = [];
  await run(
    'invite',
    'POST /patients/{id}/portal/invitation',
    ids.map((id) => ({ method: 'POST', path: `/patients/${id}/portal/invitation`, token: staff })),
    [201],
    (i, _status, body) => (pins[i] = String((JSON.parse(body) as { pin: string }).pin)),
  );
  const invites = await newestTo(info.mailboxUrl, /invitation/i);
  const inviteToken = (i: number) => {
    const token = /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec(invites.get(email(i)) ?? '')?.[1];
    if (!token) throw new Error('an invitation email has no link');
    return token;
  };
  await run(
    'register',
    'POST /registrations',
    ids.map((_id, i) => ({ method: 'POST', path: '/registrations', body: { token: inviteToken(i), pin: pins[i], username: username(i), password } })),
    [201],
  );
  await run('sign-in', 'POST /sessions', ids.map((_id, i) => ({ method: 'POST', path: '/sessions', body: { username: username(i), password } })), [200]);

  // Lobby passwords are issued by staff (measured), then redeemed.
  const lobbyPasswords: string[] = [];
  await run(
    'lobby issue',
    'POST /patients/{id}/portal/lobby-password',
    ids.map((id) => ({ method: 'POST', path: `/patients/${id}/portal/lobby-password`, token: staff })),
    [201],
    (i, _status, body) => (lobbyPasswords[i] = String((JSON.parse(body) as { lobbyPassword: string }).lobbyPassword)),
  );
  await run(
    'lobby sign-in',
    'POST /lobby-sessions',
    ids.map((id, i) => ({ method: 'POST', path: '/lobby-sessions', body: { masterCase: id, lobbyPassword: lobbyPasswords[i] } })),
    [200, 201],
  );

  // The password step of staff sign-in (TOTP follows; rule 30): the same staff user each time.
  await run(
    'staff sign-in',
    'POST /staff/sessions',
    ids.map(() => ({ method: 'POST', path: '/staff/sessions', body: { username: info.staff.username, password: info.staff.password } })),
    [200],
  );

  await run('reset request', 'POST /credential-resets', ids.map((_id, i) => ({ method: 'POST', path: '/credential-resets', body: { username: username(i) } })), [202]);
  const resets = await newestTo(info.mailboxUrl, /^Reset your/);
  const resetOf = (i: number) => {
    const text = resets.get(email(i)) ?? '';
    const token = /\/portal\/reset#token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
    const pin = /PIN: ([A-Z0-9]{6})/.exec(text)?.[1];
    if (!token || !pin) throw new Error('a reset email has no link or PIN');
    return { token, pin };
  };
  await run(
    'reset confirm',
    'POST /credential-resets/confirm',
    ids.map((_id, i) => ({ method: 'POST', path: '/credential-resets/confirm', body: { ...resetOf(i), username: username(i), newPassword } })),
    [200],
  );
  return results;
}
