/**
 * What the injected-failure tests (failures-*.test.ts, security rule 24) share: the handlers run
 * in this worker, against the local stack the global setup started, so support/fail-nth.ts can
 * count and fail their backend calls; set-up and checks go through the local API and the
 * emulators directly, never counted.
 *
 * Each flow says what its request is, what "no half state" means for it, and what its end state
 * looks like; `defineFlowTests` makes one baseline test (which also pins the list of calls) and
 * one test per call N: fresh state, call N fails, no half state, the retry completes, and the end
 * state equals the baseline's.
 */
import { randomUUID } from 'node:crypto';
import { AdminGetUserCommand, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DeleteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { call, type Answer, apiEvent, type EventOptions } from '../../support/events.ts';
import type { RouteId } from '../../../lib/routes.ts';
import { defineBusyTests } from './busy-flows.ts';
import { describeCall, installFailNth, record, type BackendCall, type FailureKind } from './fail-nth.ts';
import { api, cognito, dynamodb, stack } from './stack.ts';
import { staffAccessTokens } from './staff-session.ts';

/** The handlers' environment, as lib/local/stack.ts sets it for the local server (PIN_KEY_FILE is inherited from it). */
export function useLocalStackEnvironment(): void {
  const s = stack();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    RECORDS_TABLE: s.tableName,
    AUDIT_TABLE: s.auditTableName,
    STAFF_POOL_ID: s.staffUserPoolId,
    STAFF_CLIENT_ID: s.staffClientId,
    PATIENT_POOL_ID: s.patientUserPoolId,
    PATIENT_CLIENT_ID: s.patientClientId,
    COGNITO_ISSUER_BASE: s.cognitoEndpoint,
    PORTAL_URL: s.apiUrl,
    DYNAMODB_ENDPOINT: s.dynamodbEndpoint,
    COGNITO_ENDPOINT: s.cognitoApiEndpoint,
    SES_ENDPOINT: s.mailboxUrl,
  });
  process.env.SENDER_EMAIL ??= 'portal@localhost.test';
  if (!process.env.PIN_KEY_FILE) throw new Error('PIN_KEY_FILE is not set: the global setup sets it for the local stack');
  installFailNth();
}

type Handler = (event: APIGatewayProxyEvent, context: unknown) => Promise<unknown>;

/** A handler module, imported only once the environment is set. */
export const handlerOf = async (load: () => Promise<{ handler: unknown }>): Promise<Handler> => (await load()).handler as Handler;

/** A source address of its own per test, so no per-address counter of another test gets in the way. */
export const freshAddress = () => `10.${rand()}.${rand()}.${rand()}`;
const rand = () => Math.floor(Math.random() * 254) + 1;

/** The request as API Gateway hands it over, from a fixed source address. */
export function event(opts: EventOptions & { sourceIp: string }): APIGatewayProxyEvent {
  const e = apiEvent(opts);
  e.requestContext.identity.sourceIp = opts.sourceIp;
  return e;
}

const HANG_MS = 15_000;

/** Invokes a handler; a hang fails the test instead of timing it out silently. */
export async function invoke(handler: Handler, e: APIGatewayProxyEvent): Promise<Answer> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the handler did not answer within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    // A fresh request id each time, as API Gateway gives a retried request.
    return await Promise.race([call(handler, { ...e, requestContext: { ...e.requestContext, requestId: randomUUID() } }), hang]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ reading the state

export async function item(pk: string, sk: string): Promise<Record<string, any> | undefined> {
  const out = await dynamodb().send(
    new GetItemCommand({ TableName: stack().tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  return out.Item ? unmarshall(out.Item) : undefined;
}

export async function login(accountId: string): Promise<{ exists: boolean; enabled?: boolean }> {
  try {
    const out = await cognito().send(new AdminGetUserCommand({ UserPoolId: stack().patientUserPoolId, Username: accountId }));
    return { exists: true, enabled: out.Enabled !== false };
  } catch (err) {
    if (err instanceof Error && err.name === 'UserNotFoundException') return { exists: false };
    throw err;
  }
}

export async function patientLogins(): Promise<Set<string>> {
  const names = new Set<string>();
  let token: string | undefined;
  do {
    const out = await cognito().send(new ListUsersCommand({ UserPoolId: stack().patientUserPoolId, ...(token ? { PaginationToken: token } : {}) }));
    for (const u of out.Users ?? []) if (u.Username) names.add(u.Username);
    token = out.PaginationToken;
  } while (token);
  return names;
}

/**
 * "A login without a record": every patient-pool login made since `before` must be linked
 * (ACCOUNT# item naming a record that has that accountId), or reserved by the pending invitation
 * or email-match link of `patientId` that a retry completes with that very accountId.
 */
export async function expectNoOrphanLogins(before: Set<string>, patientId: string): Promise<void> {
  const added = [...(await patientLogins())].filter((n) => !before.has(n));
  for (const accountId of added) {
    const link = await item(`ACCOUNT#${accountId}`, 'ACCOUNT');
    if (link) {
      const rec = await item(`PATIENT#${link.patientId}`, 'RECORD');
      expect(rec?.accountId, `login ${accountId} is linked to a record that names it`).toBe(accountId);
      continue;
    }
    const invitation = await item(`INVITE#${patientId}`, 'INVITATION');
    const match = await item(`EMAILMATCH#${patientId}`, 'STATE');
    const reserved = [invitation, match].some((r) => r?.status === 'Pending' && r.accountId === accountId);
    expect(reserved, `login ${accountId} has no record and no pending registration that would complete it`).toBe(true);
  }
}

// ------------------------------------------------------------------ staff and records

/** The seeded users' access tokens, signed in through TOTP once per run (support/staff-session.ts). */
export async function staffSessions(): Promise<{ staff: string; admin: string }> {
  return staffAccessTokens();
}

/** Records this file made, removed after each test (see useInProcessHandlers). */
const made: string[] = [];

/** A fresh record with a unique id and email. */
export async function newRecord(prefix: string, body: Record<string, unknown> = {}) {
  const { staff } = await staffSessions();
  const patientId = `${prefix}-${randomUUID().slice(0, 8)}`;
  made.push(patientId);
  const email = `${patientId.toLowerCase()}@example.test`;
  const res = await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-24'], ...body } });
  expect(res.status).toBe(200);
  return { patientId, email };
}

export async function portalRecord(patientId: string): Promise<Record<string, any>> {
  const { staff } = await staffSessions();
  const res = await api(`/patients/${patientId}/portal`, { token: staff });
  expect(res.status).toBe(200);
  return res.json;
}

// ------------------------------------------------------------------ the flows

export interface Flow<S> {
  /** Short name used in the test names. */
  name: string;
  /** The route whose request this is (test/unit/busy-coverage.test.ts checks every writing route has a flow). */
  route: RouteId;
  /** The backend calls of an uninjected run, in order: "DynamoDB GetItem", … */
  calls: readonly string[];
  /** Fresh state for one run (through the API: not counted). */
  setup(): Promise<S>;
  /** The request under test, the same each time it is sent. */
  send(s: S): Promise<Answer>;
  /** The status of success. */
  ok: number;
  /** After the injected run: what must hold whatever the answer was. */
  noHalfState(s: S, answer: Answer): Promise<void>;
  /**
   * Answers the retry may give, besides `ok`, when the first attempt's work was done and only its
   * answer was lost (kind `lost`), e.g. DELETE's 404 once it is cancelled. `finish` and `outcome`
   * still have to reach the baseline's end state.
   */
  alreadyDone?: readonly { status: number; type: RegExp }[];
  /**
   * Calls whose lost answer the flow cannot recover from by design, by call number: the test then
   * checks the stated consequence instead (and says so in its name), so the limit stays visible.
   */
  lostAnswerLimits?: Readonly<Record<number, { consequence: string; check: (s: S, first: Answer) => Promise<void> }>>;
  /** The same for calls that fail after the flow's work is committed (kind `refused`), by call number. */
  failedCallLimits?: Readonly<Record<number, { consequence: string; check: (s: S, first: Answer) => Promise<void> }>>;
  /** After a successful answer: what a client does next when the answer says it is not done (e.g. resend a Failed email). */
  finish?(s: S, answer: Answer): Promise<void>;
  /** The end state, with run-specific values normalised, to compare with the baseline's. */
  outcome(s: S, success: Answer): Promise<unknown>;
}

/** Answers a failed backend may give: the generic 500 (or 503), never a stack trace or an internal name. */
export function expectCleanFailure(answer: Answer): void {
  expect(answer.status).toBeGreaterThanOrEqual(500);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.json.type).toMatch(/internal-error$/);
  expect(JSON.stringify(answer.json)).not.toMatch(/injected|Throttling|TooManyRequests|ServiceUnavailable|socket|at .*\.ts/);
}

/** Both kinds of failure by default: the call refused, and the call done with its answer lost. */
export function defineFlowTests<S>(flow: Flow<S>, kinds: readonly FailureKind[] = ['refused', 'lost']): void {
  for (const kind of kinds) defineFlowTestsOf(flow, kind);
  defineBusyTests(flow);
}

function defineFlowTestsOf<S>(flow: Flow<S>, kind: FailureKind): void {
  let baseline: unknown;

  const of = kind === 'refused' ? '' : ' (baseline for lost answers)';
  it(`rule 24: ${flow.name}: an uninjected run makes these ${flow.calls.length} backend calls${of}`, async () => {
    const s = await flow.setup();
    const { result, calls } = await record(() => flow.send(s));
    if (process.env.FAIL_NTH_PRINT) console.log(flow.name, JSON.stringify(calls.map(describeCall)));
    expect(result.status, JSON.stringify(result.json)).toBe(flow.ok);
    expect(calls.map(describeCall)).toEqual(flow.calls);
    await flow.noHalfState(s, result);
    await flow.finish?.(s, result);
    baseline = await flow.outcome(s, result);
  });

  flow.calls.forEach((name, i) => {
    const n = i + 1;
    const what = kind === 'refused' ? 'fails' : 'is done but its answer is lost';
    const limit = kind === 'lost' ? flow.lostAnswerLimits?.[n] : flow.failedCallLimits?.[n];
    if (limit) {
      it(`rule 24: ${flow.name}: call ${n} (${name}) ${what} → ${limit.consequence}`, async () => {
        const s = await flow.setup();
        const { result: first, calls } = await record(() => flow.send(s), n, kind);
        expect(calls.find((c) => c.failed) && describeCall(calls.find((c) => c.failed)!)).toBe(name);
        expectCleanFailure(first);
        await limit.check(s, first);
      });
      return;
    }
    it(`rule 24: ${flow.name}: call ${n} (${name}) ${what} → retry completes, no half state`, async () => {
      expect(baseline, 'the baseline run').toBeDefined();
      const s = await flow.setup();
      const { result: first, calls } = await record(() => flow.send(s), n, kind);
      const failed = calls.find((c: BackendCall) => c.failed);
      expect(failed && describeCall(failed), 'the injected call').toBe(name);
      if (first.status !== flow.ok) expectCleanFailure(first);
      await flow.noHalfState(s, first);
      let success = first;
      if (first.status !== flow.ok) {
        success = await flow.send(s);
        const done = kind === 'lost' && (flow.alreadyDone ?? []).some((a) => a.status === success.status && a.type.test(String(success.json.type)));
        if (!done) expect(success.status, `the retry: ${JSON.stringify(success.json)}`).toBe(flow.ok);
        await flow.noHalfState(s, success);
      }
      await flow.finish?.(s, success);
      expect(await flow.outcome(s, success)).toEqual(baseline);
    });
  });
}

/** Sets up what every failures file needs. */
export function useInProcessHandlers(): void {
  beforeAll(async () => {
    useLocalStackEnvironment();
    await staffSessions();
  });
  // Several hundred records would otherwise stay in the shared table, and runs over every record
  // (the forced credential change in resets.test.ts) would carry them; their other items are keyed
  // by ids no other test uses.
  afterEach(async () => {
    const db = dynamodb();
    for (const patientId of made.splice(0)) {
      await db.send(new DeleteItemCommand({ TableName: stack().tableName, Key: { pk: { S: `PATIENT#${patientId}` }, sk: { S: 'RECORD' } } }));
    }
  });
}
