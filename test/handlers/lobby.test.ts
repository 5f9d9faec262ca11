/**
 * Lobby mode through the real handlers, DynamoDB mocked: what is written (hashes, conditions,
 * audit entries without secrets), and how each answer looks on the wire.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { batchGetThroughGets } from '../support/batch-get.ts';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashLobbyPassword, hashLobbyToken } from '../../lambdas/domain/lobby.ts';
import { handler as current } from '../../lambdas/handlers/lobby/current.ts';
import { handler as createPassword } from '../../lambdas/handlers/lobby/password-create.ts';
import { handler as signIn } from '../../lambdas/handlers/lobby/sign-in.ts';
import { handler as getRecord } from '../../lambdas/handlers/portal-record/get.ts';
import { authenticatePatient } from '../../lambdas/http/patient-auth.ts';
import { apiEvent, call } from '../support/events.ts';
import { serveJwks, staffToken } from '../support/tokens.ts';

const db = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  serveJwks();
  batchGetThroughGets(db);
});
afterEach(() => {
  db.reset();
});

const minutes = (n: number) => n * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** Fixed per file run, so expected and stored times are the same strings. */
const startedAt = Date.now();

const record = (over: Record<string, unknown> = {}) => ({
  pk: 'PATIENT#P-1', sk: 'RECORD', listKey: 'PATIENT', masterCaseKey: 'mc-1',
  patientId: 'P-1', masterCase: 'MC-1', accessEnabled: true, cases: [], registration: 'NotRegistered',
  invite: { status: 'None' }, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 1,
  ...over,
});

/** Answers GetCommand by partition key; anything not listed is absent. */
function items(byPk: Record<string, Record<string, unknown> | undefined>) {
  db.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
    const item = byPk[input.Key.pk];
    return item ? { Item: item } : {};
  });
}

const salt = 'c2FsdHNhbHRzYWx0c2FsdA';
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashLobbyPassword('K7MXQ4RT9W', salt);
});

const storedPassword = (over: Record<string, unknown> = {}) => ({
  pk: 'LOBBY#P-1', sk: 'PASSWORD', patientId: 'P-1', salt, passwordHash,
  createdAt: iso(startedAt - minutes(1)), createdBy: 'frontdesk', expiresAt: iso(startedAt + minutes(59)), used: false, generation: 0,
  ...over,
});

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

// ------------------------------------------------------------------ staff

describe('POST /patients/{patientId}/portal/lobby-password', () => {
  const issue = (token = staffToken({ username: 'frontdesk' })) =>
    apiEvent({ method: 'POST', pathParameters: { patientId: 'P-1' }, token });

  it('answers 201 with a readable password and its expiry, storing only a salted hash and auditing without it, in one transaction', async () => {
    items({ 'PATIENT#P-1': record(), SETTINGS: { pk: 'SETTINGS', sk: 'PRACTICE', settings: { lobbyMinutes: 20 }, version: 1 } });
    db.on(TransactWriteCommand).resolves({});
    db.on(DeleteCommand).resolves({});
    const before = Date.now();
    const res = await call(createPassword, issue());
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { lobbyPassword, expiresAt, masterCase } = res.json;
    expect(lobbyPassword).toMatch(/^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$/);
    expect(masterCase).toBe('MC-1');
    expect(Date.parse(expiresAt) - before).toBeGreaterThanOrEqual(minutes(20) - 1000);
    expect(Date.parse(expiresAt) - before).toBeLessThanOrEqual(minutes(20) + 5000);

    const [write] = db.commandCalls(TransactWriteCommand);
    const [put, audit] = write!.args[0].input.TransactItems!;
    expect(put!.Put).toMatchObject({ TableName: 'records-test', Item: { pk: 'LOBBY#P-1', sk: 'PASSWORD', used: false, expiresAt, ttl: Math.ceil(Date.parse(expiresAt) / 1000), generation: 0 } });
    // A plain Put: it replaces any earlier lobby password of the patient.
    expect(put!.Put!.ConditionExpression).toBeUndefined();
    expect(audit!.Put).toMatchObject({ TableName: 'audit-test', ConditionExpression: 'attribute_not_exists(pk)', Item: { pk: 'patient:P-1', action: 'lobby-password.issued', actor: 'frontdesk', outcome: 'success' } });
    const normalised = lobbyPassword.replace('-', '');
    expect(JSON.stringify(write!.args[0].input)).not.toContain(normalised.slice(0, 5));
    expect(JSON.stringify(write!.args[0].input)).not.toContain(normalised.slice(5));
    expect(put!.Put!.Item!.passwordHash).toBe(await hashLobbyPassword(normalised, put!.Put!.Item!.salt as string));
    // The case number's lobby guessing counter is cleared, in the same transaction as the password (issue 16).
    const cleared = write!.args[0].input.TransactItems!.filter((i) => i.Delete).map((i) => i.Delete!.Key!.pk as string);
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatch(/^THROTTLE#account#/);
    expect(db.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('answers 404 without a record and 409 while access is disabled, writing nothing', async () => {
    items({});
    expect((await call(createPassword, issue())).status).toBe(404);
    items({ 'PATIENT#P-1': record({ accessEnabled: false }) });
    const disabled = await call(createPassword, issue());
    expect(disabled.status).toBe(409);
    expect(disabled.json.type).toBe('/problems/access-disabled');
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('is for staff only: 401 without a token, 403 for a user in no group', async () => {
    expect((await call(createPassword, apiEvent({ method: 'POST', pathParameters: { patientId: 'P-1' } }))).status).toBe(401);
    expect((await call(createPassword, issue(staffToken({ groups: [] })))).status).toBe(403);
    expect(db.calls()).toHaveLength(0);
  });
});

// ------------------------------------------------------------------ sign-in

describe('POST /lobby-sessions', () => {
  const attempt = (body: unknown = { masterCase: 'mc-1', lobbyPassword: 'k7mxq4rt9w' }) => apiEvent({ method: 'POST', body });

  beforeEach(() => {
    db.on(QueryCommand).resolves({ Items: [{ patientId: 'P-1' }] });
    db.on(PutCommand).resolves({});
    db.on(UpdateCommand).resolves({});
    db.on(TransactWriteCommand).resolves({});
  });

  it('answers 200 with an intake token; consumes the password and stores the session by hash, with its audit entry, in one conditional transaction', async () => {
    items({ 'PATIENT#P-1': record(), 'LOBBY#P-1': storedPassword() });
    const res = await call(signIn, attempt());
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ lobbyToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAt: storedPassword().expiresAt, scope: 'intake', patientId: 'P-1' });
    expect(db.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ IndexName: 'byMasterCase', ExpressionAttributeValues: { ':v': 'mc-1' } });

    const [consume, session, audit] = db.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(consume!.Update).toMatchObject({
      Key: { pk: 'LOBBY#P-1', sk: 'PASSWORD' },
      ConditionExpression: 'used = :false AND passwordHash = :hash AND expiresAt > :now',
      ExpressionAttributeValues: { ':hash': passwordHash, ':false': false },
    });
    expect(session!.Put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `LOBBYSESSION#${hashLobbyToken(res.json.lobbyToken)}`, patientId: 'P-1', scope: 'intake', expiresAt: res.json.expiresAt, generation: 0 },
    });
    expect(audit!.Put!.Item).toMatchObject({ pk: 'patient:P-1', action: 'lobby.sign-in', outcome: 'success', sourceIp: '203.0.113.9' });
    const written = JSON.stringify(db.commandCalls(TransactWriteCommand)[0]!.args[0].input);
    expect(written).not.toContain(res.json.lobbyToken);
    expect(written).not.toMatch(/k7mxq|K7MXQ/);
  });

  it('gives one 401 body for a wrong password, an unknown case number, a used or expired password, and a lost race', async () => {
    const bodies: unknown[] = [];
    const scenarios: [string, () => void, unknown?][] = [
      ['wrong', () => items({ 'PATIENT#P-1': record(), 'LOBBY#P-1': storedPassword() }), { masterCase: 'MC-1', lobbyPassword: 'WRONG-WRONG' }],
      ['unknown', () => { db.on(QueryCommand).resolves({ Items: [] }); items({}); }, { masterCase: 'nobody', lobbyPassword: 'K7MXQ-4RT9W' }],
      ['used', () => items({ 'PATIENT#P-1': record(), 'LOBBY#P-1': storedPassword({ used: true }) })],
      ['expired', () => items({ 'PATIENT#P-1': record(), 'LOBBY#P-1': storedPassword({ expiresAt: iso(Date.now() - 1000) }) })],
      ['disabled', () => items({ 'PATIENT#P-1': record({ accessEnabled: false }), 'LOBBY#P-1': storedPassword() })],
      ['race', () => { items({ 'PATIENT#P-1': record(), 'LOBBY#P-1': storedPassword() }); db.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None')); }],
    ];
    for (const [name, arrange, body] of scenarios) {
      arrange();
      const res = await call(signIn, attempt(body));
      expect(res.status, name).toBe(401);
      expect(res.headers['content-type']).toBe('application/problem+json');
      bodies.push(res.json);
      db.reset();
      batchGetThroughGets(db);
      db.on(QueryCommand).resolves({ Items: [{ patientId: 'P-1' }] });
      db.on(PutCommand).resolves({});
      db.on(UpdateCommand).resolves({});
      db.on(TransactWriteCommand).resolves({});
    }
    for (const body of bodies) expect(body).toEqual(bodies[0]);
  });

  it('counts a refusal against the case number and the address, and audits it without the password', async () => {
    items({ 'PATIENT#P-1': record(), 'LOBBY#P-1': storedPassword() });
    await call(signIn, attempt({ masterCase: 'MC-1', lobbyPassword: 'GUESS-ABCDE' }));
    const updates = db.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key!.pk as string);
    expect(updates.filter((k) => k.startsWith('THROTTLE#account#'))).toHaveLength(1);
    expect(updates.filter((k) => k.startsWith('THROTTLE#address#'))).toHaveLength(1);
    const audit = db.commandCalls(PutCommand)[0]!.args[0].input;
    expect(audit).toMatchObject({ TableName: 'audit-test', Item: { pk: 'patient:P-1', action: 'lobby.sign-in', outcome: 'failure', detail: { reason: 'wrong-password' } } });
    expect(JSON.stringify(audit)).not.toContain('GUESS');
  });

  it('rule 6: past the limit answers 429 with Retry-After without looking at any password', async () => {
    // The right password is stored: past the limit it opens nothing.
    db.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
      if (input.Key.pk.startsWith('THROTTLE#account#')) return { Item: { failures: 5, lastFailureAt: Date.now() } };
      if (input.Key.pk === 'PATIENT#P-1') return { Item: record() };
      if (input.Key.pk === 'LOBBY#P-1') return { Item: storedPassword() };
      return {};
    });
    const res = await call(signIn, attempt());
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // Issue 16: the index query and the record and password that the case number names as a patientId go out
    // with the counters (one round trip when the limit is not reached); past it, nothing more is read and
    // nothing is compared or redeemed: the patients the index names are never read, no session is written.
    const read = db.commandCalls(GetCommand).map((c) => c.args[0].input.Key!.pk as string).filter((k) => !k.startsWith('THROTTLE#'));
    expect(read.sort()).toEqual(['LOBBY#mc-1', 'PATIENT#mc-1']);
    expect(db.commandCalls(BatchGetCommand)).toHaveLength(1);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('tries a transaction again when DynamoDB cancels it for a conflict', async () => {
    items({ 'PATIENT#P-1': record(), 'LOBBY#P-1': storedPassword() });
    db.on(TransactWriteCommand).rejectsOnce(cancelled('TransactionConflict', 'None', 'None')).resolves({});
    const res = await call(signIn, attempt());
    expect(res.status).toBe(200);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('rejects unknown fields and a missing password with 400, before any lookup', async () => {
    expect((await call(signIn, attempt({ masterCase: 'MC-1', lobbyPassword: 'x', patientId: 'P-1' }))).status).toBe(400);
    expect((await call(signIn, attempt({ masterCase: 'MC-1' }))).status).toBe(400);
    expect((await call(signIn, attempt({ masterCase: '../x', lobbyPassword: 'x' }))).status).toBe(400);
    expect(db.calls()).toHaveLength(0);
  });
});

// ------------------------------------------------------------------ the lobby token

describe('GET /lobby-sessions/current', () => {
  const token = 'A'.repeat(40) + 'xyz';
  const session = (over: Record<string, unknown> = {}) => ({
    pk: `LOBBYSESSION#${hashLobbyToken(token)}`, sk: 'SESSION', tokenHash: hashLobbyToken(token), patientId: 'P-1', scope: 'intake',
    createdAt: iso(startedAt - minutes(5)), expiresAt: iso(startedAt + minutes(30)), generation: 0,
    ...over,
  });
  const get = (t: string | undefined = token) => apiEvent({ token: t });

  it('answers the session of a valid token, looked up by its hash with consistent reads', async () => {
    items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session(), 'PATIENT#P-1': record() });
    const res = await call(current, get());
    expect(res).toMatchObject({ status: 200, json: { patientId: 'P-1', scope: 'intake', expiresAt: session().expiresAt } });
    for (const c of db.commandCalls(GetCommand)) expect(c.args[0].input.ConsistentRead).toBe(true);
  });

  it.each([
    ['expired', () => items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session({ expiresAt: iso(Date.now() - 1) }), 'PATIENT#P-1': record() })],
    ['access disabled', () => items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session(), 'PATIENT#P-1': record({ accessEnabled: false }) })],
    // Rule 17: the record's generation moved on since the session began (revoke, access off, email or credential change).
    ['revoked after it began', () => items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session(), 'PATIENT#P-1': record({ linkGeneration: 1 }) })],
    ['opened under another generation', () => items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session({ generation: 1 }), 'PATIENT#P-1': record() })],
    ['without a generation (from before the rule)', () => items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session({ generation: undefined }), 'PATIENT#P-1': record() })],
    ['record gone', () => items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session() })],
    ['unknown', () => items({ 'PATIENT#P-1': record() })],
  ])('answers 401 for a token whose session is %s', async (_name, arrange) => {
    arrange();
    const res = await call(current, get());
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json.type).toBe('/problems/unauthorized');
  });

  it('refuses a staff token or no token without touching the table', async () => {
    expect((await call(current, get(staffToken()))).status).toBe(401);
    expect((await call(current, apiEvent({}))).status).toBe(401);
    expect(db.calls()).toHaveLength(0);
  });

  it('a lobby token opens no staff route and no patient route', async () => {
    items({ [`LOBBYSESSION#${hashLobbyToken(token)}`]: session(), 'PATIENT#P-1': record() });
    const staffRoute = await call(getRecord, apiEvent({ pathParameters: { patientId: 'P-1' }, token }));
    expect(staffRoute.status).toBe(401);
    await expect(authenticatePatient(`Bearer ${token}`)).rejects.toMatchObject({ status: 401 });
  });
});
