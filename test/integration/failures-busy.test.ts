/**
 * Security rule 35 for the writing routes that have no injected-failure flow elsewhere
 * (failures-invitations, -logins, -resets-lobby define theirs, and get the same busy tests
 * through defineFlowTests): each one's DynamoDB calls made busy (conflicts, throttling) inside
 * our retry layer, transient (the request succeeds) and persistent (503 with Retry-After, no half
 * state, the retry completes). test/unit/busy-coverage.test.ts checks, from the route table,
 * that every writing route has a flow in one of these files.
 */
import { resolve } from 'node:path';
import { beforeAll, expect, it, describe } from 'vitest';
import { staffClientSecret } from '../../lambdas/adapters/staff-directory.ts';
import { routes, type RouteId } from '../../lib/routes.ts';
import type { Answer } from '../support/events.ts';
import { defineBusyTests, expectBusy } from './support/busy-flows.ts';
import { record } from './support/fail-nth.ts';
import { event, freshAddress, handlerOf, invoke, item, newRecord, portalRecord, staffSessions, useInProcessHandlers, type Flow } from './support/failure-flows.ts';
import { api, mailbox, stack } from './support/stack.ts';

useInProcessHandlers();
beforeAll(() => staffClientSecret());

const chosen = 'saffron kettle meadow lantern';

/** The route's own handler, imported from the file the route table names. */
const handlers = new Map<RouteId, Awaited<ReturnType<typeof handlerOf>>>();
async function handlerFor(id: RouteId) {
  if (!handlers.has(id)) {
    const entry = routes.find((r) => r.id === id)!.entry;
    handlers.set(id, await handlerOf(() => import(resolve(entry)) as Promise<{ handler: unknown }>));
  }
  return handlers.get(id)!;
}

/** Sends `route` through its handler, as API Gateway would. */
async function send(id: RouteId, opts: { token?: string; sourceIp: string; params?: Record<string, string>; body?: unknown }): Promise<Answer> {
  const r = routes.find((x) => x.id === id)!;
  const path = r.path.replace(/\{(\w+)\}/g, (_, k: string) => opts.params?.[k] ?? '');
  return invoke(
    await handlerFor(id),
    event({
      method: r.method,
      resource: r.path,
      path,
      sourceIp: opts.sourceIp,
      ...(opts.params ? { pathParameters: opts.params } : {}),
      ...(opts.token ? { token: opts.token } : {}),
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    }),
  );
}

async function invited(prefix: string) {
  const p = await newRecord(prefix);
  const { staff } = await staffSessions();
  const res = await api(`/patients/${p.patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(res.status).toBe(201);
  const token = (await mailbox(p.email)).map((m) => /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec(m.body.text ?? '')?.[1]).find(Boolean);
  return { ...p, pin: res.json.pin as string, token: token!, sourceIp: freshAddress() };
}

async function registered(prefix: string) {
  const p = await newRecord(prefix);
  const { staff } = await staffSessions();
  const reg = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: staff });
  expect(reg.status).toBe(201);
  const challenge = await api('/sessions', { method: 'POST', body: { username: reg.json.username, password: reg.json.temporaryPassword } });
  const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: chosen } });
  expect(done.status).toBe(200);
  return { ...p, username: reg.json.username as string, sourceIp: freshAddress() };
}

const flows: Flow<any>[] = [];
const define = <S,>(flow: Flow<S>) => flows.push(flow as Flow<any>);

define<{ patientId: string; email: string; sourceIp: string }>({
  name: 'portal record edit',
  route: 'portal-record-put',
  calls: [
    'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
    'DynamoDB GetItem',
    'DynamoDB TransactWriteItems',
  ],
  setup: async () => ({ ...(await newRecord('F35R')), sourceIp: freshAddress() }),
  send: async (s) => send('portal-record-put', { token: (await staffSessions()).staff, sourceIp: s.sourceIp, params: { patientId: s.patientId }, body: { email: s.email, cases: ['C-24', 'C-35'] } }),
  ok: 200,
  async noHalfState(s, answer) {
    const rec = await item(`PATIENT#${s.patientId}`, 'RECORD');
    expect(rec?.cases).toEqual(answer.status === 200 ? ['C-24', 'C-35'] : expect.anything());
  },
  async outcome(s) {
    const rec = await portalRecord(s.patientId);
    return { cases: rec.cases, version: rec.version };
  },
});

define<{ sourceIp: string; body: Record<string, unknown> }>({
  name: 'settings edit',
  route: 'settings-put',
  calls: [
    'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
    'DynamoDB GetItem',
    'DynamoDB TransactWriteItems',
  ],
  async setup() {
    const { admin } = await staffSessions();
    const current = await api('/settings', { token: admin });
    expect(current.status).toBe(200);
    // A new practice name each run (an unchanged one writes nothing).
    return { sourceIp: freshAddress(), body: { practiceName: `Busy Test Practice ${Math.random().toString(36).slice(2, 8)}` } };
  },
  send: async (s) => send('settings-put', { token: (await staffSessions()).admin, sourceIp: s.sourceIp, body: s.body }),
  ok: 200,
  async noHalfState() {
    expect((await api('/settings', { token: (await staffSessions()).admin })).status).toBe(200);
  },
  async outcome(s) {
    return { practiceName: (await api('/settings', { token: (await staffSessions()).admin })).json.practiceName === s.body.practiceName };
  },
});

define<{ sourceIp: string; staffId: string }>({
  name: 'staff permissions edit',
  route: 'staff-permissions-put',
  calls: [
    'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
    'Cognito AdminGetUser',
    'DynamoDB GetItem',
    'DynamoDB TransactWriteItems',
  ],
  async setup() {
    // The admin's autoInvite (nothing else in this file depends on it), off before each run so
    // that turning it on is a real change (an unchanged value writes nothing).
    const { admin } = await staffSessions();
    const staffId = stack().admin.username;
    expect((await api(`/staff/${staffId}/permissions`, { method: 'PUT', token: admin, body: { autoInvite: false } })).status).toBe(200);
    return { sourceIp: freshAddress(), staffId };
  },
  send: async (s) => send('staff-permissions-put', { token: (await staffSessions()).admin, sourceIp: s.sourceIp, params: { staffId: s.staffId }, body: { autoInvite: true } }),
  ok: 200,
  async noHalfState(s, answer) {
    const now = await api(`/staff/${s.staffId}/permissions`, { token: (await staffSessions()).admin });
    if (answer.status === 200) expect(now.json.autoInvite).toBe(true);
  },
  async outcome(s) {
    return (await api(`/staff/${s.staffId}/permissions`, { token: (await staffSessions()).admin })).json;
  },
});

define<Awaited<ReturnType<typeof invited>>>({
  name: 'access code shown again',
  route: 'invitation-access-code',
  calls: [
    'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
    'DynamoDB GetItem',
    'DynamoDB GetItem',
    'DynamoDB PutItem',
  ],
  setup: () => invited('F35A'),
  send: async (s) => send('invitation-access-code', { token: (await staffSessions()).staff, sourceIp: s.sourceIp, params: { patientId: s.patientId } }),
  ok: 200,
  async noHalfState(_s, answer) {
    // Shown only with its audit entry (rule 18): a failed audit write shows nothing.
    if (answer.status !== 200) expect(answer.json.pin).toBeUndefined();
  },
  outcome: async (s, success) => ({ samePin: success.json.pin === s.pin }),
});

define<Awaited<ReturnType<typeof invited>>>({
  name: 'invitation link check',
  route: 'invitation-lookup',
  calls: ['DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB GetItem'],
  setup: () => invited('F35C'),
  send: (s) => send('invitation-lookup', { sourceIp: s.sourceIp, body: { token: s.token } }),
  ok: 200,
  async noHalfState() {},
  outcome: async (s) => ({ link: (await api('/invitations/lookup', { method: 'POST', body: { token: s.token } })).status }),
});

define<Awaited<ReturnType<typeof registered>>>({
  name: 'patient sign-in',
  route: 'patient-sign-in',
  calls: [
    'DynamoDB BatchGetItem', // throttle counters + the username's login (issue 16)
    'DynamoDB UpdateItem', // the try reserved (rule 5)
    'Cognito AdminInitiateAuth', // server-side sign-in (rule 34)
    'DynamoDB GetItem', // record
    'DynamoDB TransactWriteItems', // reservation cleared + audit
  ],
  setup: () => registered('F35P'),
  send: (s) => send('patient-sign-in', { sourceIp: s.sourceIp, body: { username: s.username, password: chosen } }),
  ok: 200,
  async noHalfState() {},
  outcome: async (_s, success) => ({ tokens: typeof success.json.accessToken === 'string', account: (await api('/account', { token: success.json.accessToken })).status }),
});

define<{ sourceIp: string }>({
  name: 'staff sign-in',
  route: 'staff-sign-in',
  // The staff app client's secret (SECRET_HASH, rule 34) is read once per cold start, before the
  // flows run (beforeAll above): a warm function's calls.
  calls: ['DynamoDB BatchGetItem', 'DynamoDB UpdateItem', 'Cognito InitiateAuth', 'DynamoDB TransactWriteItems'],
  setup: async () => ({ sourceIp: freshAddress() }),
  // The password step only (the stack's user also carries its TOTP secret, which is no field of the request).
  send: (s) => send('staff-sign-in', { sourceIp: s.sourceIp, body: { username: stack().staff.username, password: stack().staff.password } }),
  ok: 200,
  async noHalfState() {},
  // A password alone gets no tokens: the TOTP step follows (rule 30).
  outcome: async (_s, success) => ({ challenge: success.json.challenge, session: typeof success.json.session === 'string' }),
});

define<{ patientId: string; email: string; sourceIp: string }>({
  name: 'email-match request',
  route: 'email-match-request',
  calls: ['DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB UpdateItem', 'DynamoDB UpdateItem', 'DynamoDB Query', 'DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB TransactWriteItems', 'SES SendEmail'],
  async setup() {
    // Only where an admin turned it on does a request write anything (a link, the counters).
    expect((await api('/settings', { method: 'PUT', token: (await staffSessions()).admin, body: { emailMatch: true } })).status).toBe(200);
    return { ...(await newRecord('F35E')), sourceIp: freshAddress() };
  },
  send: (s) => send('email-match-request', { sourceIp: s.sourceIp, body: { email: s.email } }),
  ok: 202,
  async noHalfState() {},
  outcome: async (_s, success) => success.json,
});

for (const flow of flows) describe(`${flow.name}: ${flow.route}`, () => defineBusyTests(flow));

describe('forced credential change: POST /portal/forced-credential-change', () => {
  // Its calls depend on how many records the table holds, so no fixed list: every DynamoDB call
  // is made busy instead, first for good (503, and the run continues afterwards), then twice each.
  const forced = { route: 'forced-credential-change' } as const;
  const force = async () => send(forced.route, { token: (await staffSessions()).admin, sourceIp: freshAddress() });

  it('rule 35: forced credential change: every DynamoDB call stays busy → 503 with Retry-After; POSTing again completes the run', async () => {
    const p = await registered('F35F');
    const { result } = await record(force, 'every-dynamodb', 'conflict');
    expectBusy(result);
    let last: Answer;
    let n = 0;
    do last = await force();
    while (last.json.complete === false && ++n < 30);
    expect(last.status).toBe(202);
    expect(last.json.complete).toBe(true);
    const signIn = await api('/sessions', { method: 'POST', body: { username: p.username, password: chosen } });
    expect(signIn.json.challenge).toBe('NEW_PASSWORD_REQUIRED');
  });

  it('rule 35: forced credential change: every DynamoDB call conflicts twice → retried, the run completes', async () => {
    const p = await registered('F35G');
    let last!: Answer;
    let n = 0;
    do last = (await record(force, 'every-dynamodb', 'conflict', 2)).result;
    while (last.json.complete === false && ++n < 30);
    expect(last.status, JSON.stringify(last.json)).toBe(202);
    expect(last.json.complete).toBe(true);
    const signIn = await api('/sessions', { method: 'POST', body: { username: p.username, password: chosen } });
    expect(signIn.json.challenge).toBe('NEW_PASSWORD_REQUIRED');
  });
});
