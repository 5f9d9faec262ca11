/**
 * Lobby passwords under the KMS HMAC key (issue 16 item 4, the AWS path): the issue and sign-in
 * handlers with LOBBY_KEY_ID set, KMS and DynamoDB mocked (aws-sdk-client-mock; DynamoDB answered
 * by the in-memory DynamoDB, whose conditions are evaluated). The hash key is GenerateMac of a
 * fixed label, asked once per container however many passwords are hashed or checked; KMS failing
 * is a 500 and never an unkeyed hash; a hash made under one key is refused under another; scrypt
 * hashes from before the deploy still verify (without asking KMS).
 */
import { GenerateMacCommand, KMSClient, KMSInternalException } from '@aws-sdk/client-kms';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kmsLobbyHashKey, LobbyKeyUnavailable, lobbyKeyLabel, resetLobbyKeyForTests } from '../../lambdas/adapters/lobby-key.ts';
import { resetConfigForTests } from '../../lambdas/config.ts';
import { hashLobbyPassword, keyedLobbyHash, keyedScheme } from '../../lambdas/domain/lobby.ts';
import { handler as createPassword } from '../../lambdas/handlers/lobby/password-create.ts';
import { handler as signIn } from '../../lambdas/handlers/lobby/sign-in.ts';
import { apiEvent, call } from '../support/events.ts';
import { memoryDynamo, type Item, type MemoryDynamo } from '../support/memory-dynamo.ts';
import { serveJwks, staffToken } from '../support/tokens.ts';

const db = mockClient(DynamoDBDocumentClient);
const kms = mockClient(KMSClient);
const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/lobby-test';
const macA = Buffer.alloc(32, 0xa1);
const macB = Buffer.alloc(32, 0xb2);

let mem: MemoryDynamo;
const records = () => mem.table('records-test');

beforeAll(() => {
  process.env.LOBBY_KEY_ID = keyArn;
  resetConfigForTests();
});
afterAll(() => {
  delete process.env.LOBBY_KEY_ID;
  resetConfigForTests();
  resetLobbyKeyForTests();
});

const record = (n: number, over: Item = {}) => ({
  pk: `PATIENT#P-${n}`, sk: 'RECORD', listKey: 'PATIENT', masterCaseKey: `mc-${n}`,
  patientId: `P-${n}`, masterCase: `MC-${n}`, accessEnabled: true, cases: [], registration: 'NotRegistered',
  invite: { status: 'None' }, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 1,
  ...over,
});

beforeEach(() => {
  serveJwks();
  mem = memoryDynamo();
  for (const Command of [GetCommand, BatchGetCommand, PutCommand, DeleteCommand, UpdateCommand, QueryCommand, TransactWriteCommand]) {
    db.on(Command as never).callsFake(((input: unknown) => mem.send(new (Command as new (i: unknown) => { input: unknown })(input))) as never);
  }
  for (const n of [1, 2, 3]) records().set(`PATIENT#P-${n}|RECORD`, record(n));
  // A new container: the key is asked of KMS again at first use.
  resetLobbyKeyForTests();
  kms.on(GenerateMacCommand).resolves({ Mac: macA, KeyId: keyArn, MacAlgorithm: 'HMAC_SHA_256' });
});
afterEach(() => {
  db.reset();
  kms.reset();
});

const issue = async (n: number) => {
  const res = await call(createPassword, apiEvent({ method: 'POST', pathParameters: { patientId: `P-${n}` }, token: staffToken({ username: 'frontdesk' }) }));
  return res;
};
const enter = (masterCase: string, lobbyPassword: string) => call(signIn, apiEvent({ method: 'POST', body: { masterCase, lobbyPassword } }));
const stored = (n: number) => records().get(`LOBBY#P-${n}|PASSWORD`)!;
const macCalls = () => kms.commandCalls(GenerateMacCommand);
const throttleItems = () => [...records().keys()].filter((k) => k.startsWith('THROTTLE#'));

describe('lobby passwords under the KMS HMAC key (issue 16 item 4)', () => {
  it('one GenerateMac of the fixed label per container, however many passwords are issued and checked; each hash is HMAC-SHA-256 under its MAC', async () => {
    const issued: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await issue(n);
      expect(res.status, `issue ${n}`).toBe(201);
      issued.push(res.json.lobbyPassword);
    }
    for (const n of [1, 2, 3]) expect((await enter(`MC-${n}`, issued[n - 1]!)).status, `sign-in ${n}`).toBe(200);
    expect(macCalls()).toHaveLength(1);
    expect(macCalls()[0]!.args[0].input).toEqual({ KeyId: keyArn, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(lobbyKeyLabel, 'utf8') });
    expect(lobbyKeyLabel).toBe('portal-access lobby password key v1');
    for (const n of [1, 2, 3]) {
      const item = stored(n);
      // The stored hash names its scheme; the hash is of this password under the derived key, and the password is nowhere.
      expect(item.scheme, `P-${n}`).toBe(keyedScheme);
      expect(item.passwordHash).toBe(keyedLobbyHash(macA, issued[n - 1]!.replace('-', ''), item.salt));
      expect(JSON.stringify(item)).not.toContain(issued[n - 1]!.replace('-', '').slice(0, 5));
    }
  });

  it('concurrent first uses share the one GenerateMac', async () => {
    const key = kmsLobbyHashKey(keyArn, new KMSClient({ region: 'us-east-1' }));
    const keys = await Promise.all([key(), key(), key(), key()]);
    expect(macCalls()).toHaveLength(1);
    for (const k of keys) expect(k.equals(macA)).toBe(true);
  });

  it('hostile: a wrong lobby password with the right case number is refused (401), and counted as a guess', async () => {
    const { json } = await issue(1);
    const right = json.lobbyPassword as string;
    const lastWrong = right.slice(0, -1) + (right.endsWith('A') ? 'B' : 'A');
    for (const wrong of [lastWrong, 'ZZZZZ-ZZZZZ']) {
      const res = await enter('MC-1', wrong);
      expect(res.status, wrong).toBe(401);
      expect(res.json.type).toBe('/problems/invalid-credentials');
    }
    // The right password of another patient's case number opens nothing either.
    expect((await enter('MC-2', right)).status).toBe(401);
    expect(throttleItems().length).toBeGreaterThan(0);
    expect((await enter('MC-1', right)).status).toBe(200);
  });

  it('a hash made under one key is refused under another (a new key, a new container): 401, never a match', async () => {
    const { json } = await issue(1);
    resetLobbyKeyForTests();
    kms.on(GenerateMacCommand).resolves({ Mac: macB, KeyId: keyArn, MacAlgorithm: 'HMAC_SHA_256' });
    const res = await enter('MC-1', json.lobbyPassword);
    expect(res.status).toBe(401);
    expect(stored(1).used).toBe(false);
  });

  it('KMS failing: issue and sign-in answer 500 (never an unkeyed hash, nothing written, no guess counted); the next request asks KMS again', async () => {
    const { json } = await issue(1);
    const before = structuredClone(stored(1));
    resetLobbyKeyForTests();
    kms.on(GenerateMacCommand).rejects(new KMSInternalException({ message: 'KMS is down', $metadata: {} }));

    const refusedIssue = await issue(2);
    expect(refusedIssue.status).toBe(500);
    expect(records().has('LOBBY#P-2|PASSWORD')).toBe(false);

    const refusedSignIn = await enter('MC-1', json.lobbyPassword);
    expect(refusedSignIn.status).toBe(500);
    expect(refusedSignIn.json.type).not.toBe('/problems/invalid-credentials');
    expect(stored(1)).toEqual(before);
    expect(throttleItems()).toEqual([]);

    // A failure is not kept: once KMS answers, the same container gets its key.
    const calls = macCalls().length;
    kms.on(GenerateMacCommand).resolves({ Mac: macA, KeyId: keyArn, MacAlgorithm: 'HMAC_SHA_256' });
    expect((await enter('MC-1', json.lobbyPassword)).status).toBe(200);
    expect(macCalls().length).toBe(calls + 1);
  });

  it('KMS answering without a 32-byte MAC is a failure too, never a short or empty key', async () => {
    for (const answer of [{}, { Mac: new Uint8Array(0) }, { Mac: Buffer.alloc(16, 1) }]) {
      kms.on(GenerateMacCommand).resolves(answer);
      const key = kmsLobbyHashKey(keyArn, new KMSClient({ region: 'us-east-1' }));
      await expect(key(), JSON.stringify(answer)).rejects.toBeInstanceOf(LobbyKeyUnavailable);
    }
  });

  it('a scrypt hash issued before the deploy (no scheme) still verifies, without asking KMS, even while KMS fails; a wrong one is still refused', async () => {
    const salt = 'c2FsdHNhbHRzYWx0c2FsdA';
    records().set('LOBBY#P-1|PASSWORD', {
      pk: 'LOBBY#P-1', sk: 'PASSWORD', patientId: 'P-1', salt, passwordHash: await hashLobbyPassword('K7MXQ4RT9W', salt),
      createdAt: new Date(Date.now() - 60_000).toISOString(), createdBy: 'frontdesk', expiresAt: new Date(Date.now() + 3_600_000).toISOString(), used: false, generation: 0,
    });
    kms.on(GenerateMacCommand).rejects(new KMSInternalException({ message: 'KMS is down', $metadata: {} }));
    expect((await enter('MC-1', 'K7MXQ-4RT9X')).status).toBe(401);
    expect((await enter('mc-1', 'k7mxq-4rt9w')).status).toBe(200);
    expect(macCalls()).toHaveLength(0);
  });
});
