/**
 * The invitation and registration handlers with every AWS client mocked (aws-sdk-client-mock):
 * DynamoDB answers from the in-memory DynamoDB (test/support/memory-dynamo.ts, which evaluates
 * the adapters' conditions and updates), KMS, SES and Cognito are scripted per test. The token
 * checks run for real against a test JWKS.
 */
import { CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminDeleteUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '../../lambdas/config.ts';
import { hashToken } from '../../lambdas/domain/invitations.ts';
import { handler as accessCode } from '../../lambdas/handlers/invitations/access-code.ts';
import { handler as cancel } from '../../lambdas/handlers/invitations/cancel.ts';
import { handler as lookup } from '../../lambdas/handlers/invitations/lookup.ts';
import { handler as create } from '../../lambdas/handlers/invitations/create.ts';
import { handler as resend } from '../../lambdas/handlers/invitations/resend.ts';
import { handler as registrations } from '../../lambdas/handlers/registration/create.ts';
import { apiEvent, call } from '../support/events.ts';
import { memoryDynamo, type Item } from '../support/memory-dynamo.ts';
import { serveJwks, staffToken } from '../support/tokens.ts';
import { staffRecordOf } from '../../lambdas/http/staff-session.ts';
import { enabledStaffRecord } from '../support/staff-records.ts';

process.env.PIN_KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/pin-test';
process.env.SES_CONFIGURATION_SET = 'portal-tls';
resetConfigForTests();

const db = mockClient(DynamoDBDocumentClient);
const kms = mockClient(KMSClient);
const ses = mockClient(SESClient);
const idp = mockClient(CognitoIdentityProviderClient);

let mem: ReturnType<typeof memoryDynamo>;
/** The records table of the in-memory DynamoDB, by `pk|sk` (looked up afresh: a transaction may replace the map). */
const table = {
  get: (key: string) => mem.table('records-test').get(key),
  has: (key: string) => mem.table('records-test').has(key),
  set: (key: string, item: Item) => void mem.table('records-test').set(key, item),
  clear: () => mem.table('records-test').clear(),
  values: () => mem.table('records-test').values(),
};

/** Every DynamoDB command the adapters send, answered by a fresh in-memory DynamoDB. */
function memoryTable(): void {
  mem = memoryDynamo();
  const send = (command: { input: unknown }) => mem.send(command);
  db.on(GetCommand).callsFake((input) => send(new GetCommand(input)));
  db.on(BatchGetCommand).callsFake((input) => send(new BatchGetCommand(input)));
  db.on(PutCommand).callsFake((input) => send(new PutCommand(input)));
  db.on(DeleteCommand).callsFake((input) => send(new DeleteCommand(input)));
  db.on(UpdateCommand).callsFake((input) => send(new UpdateCommand(input)));
  db.on(QueryCommand).callsFake((input) => send(new QueryCommand(input)));
  db.on(TransactWriteCommand).callsFake((input) => send(new TransactWriteCommand(input)));
}

const record = (over: Item = {}) => ({
  pk: 'PATIENT#P-1', sk: 'RECORD', listKey: 'PATIENT', patientId: 'P-1', email: 'pat@example.test', accessEnabled: true, cases: ['C-1'],
  registration: 'NotRegistered', invite: { status: 'None' }, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 1, ...over,
});

const staffCall = (method: string, path: string, token = staffToken({ username: 'frontdesk' })) =>
  apiEvent({ method, resource: path, pathParameters: { patientId: 'P-1' }, token });

/** The KMS fake: "ciphertext" is the plaintext reversed, under a marker; the context must match. */
function fakeKms(): void {
  kms.on(EncryptCommand).callsFake((input) => ({ CiphertextBlob: Buffer.from(`enc:${JSON.stringify(input.EncryptionContext)}:${Buffer.from(input.Plaintext).toString()}`) }));
  kms.on(DecryptCommand).callsFake((input) => {
    const text = Buffer.from(input.CiphertextBlob).toString();
    const [, context, pin] = /^enc:(\{.*\}):(.*)$/.exec(text)!;
    if (context !== JSON.stringify(input.EncryptionContext)) throw Object.assign(new Error('bad context'), { name: 'InvalidCiphertextException' });
    return { Plaintext: Buffer.from(pin!) };
  });
}

const tokenFromEmail = (n = 0): string => {
  const input = ses.commandCalls(SendEmailCommand)[n]!.args[0].input;
  return /#token=([A-Za-z0-9_-]+)/.exec(input.Message!.Body!.Text!.Data!)![1]!;
};

beforeEach(() => {
  serveJwks();
  memoryTable();
  fakeKms();
  table.set('PATIENT#P-1|RECORD', record());
});
afterEach(() => {
  db.reset();
  kms.reset();
  ses.reset();
  idp.reset();
});

describe('POST /patients/{patientId}/portal/invitation', () => {
  it('201: seals the PIN with KMS, writes record + invitation + link + audit in one transaction, emails the link through SES', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const res = await call(create, staffCall('POST', '/patients/{patientId}/portal/invitation'));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ pin: expect.stringMatching(/^[2-9A-HJKMNP-Z]{6}$/), delivery: 'Sent', record: { invite: { status: 'Pending', delivery: 'Sent', sentBy: 'frontdesk' } } });
    expect(res.json.record.statusMessage).toBe('Enabled / Not Registered / Invite');

    const enc = kms.commandCalls(EncryptCommand)[0]!.args[0].input;
    expect(enc.KeyId).toBe(process.env.PIN_KEY_ID);
    expect(enc.EncryptionContext).toMatchObject({ purpose: 'invitation-pin', patientId: 'P-1' });

    const [first] = db.commandCalls(TransactWriteCommand);
    const items = first!.args[0].input.TransactItems!;
    expect(items.map((i) => (i.Put ? `Put ${String(i.Put.Item!.pk).split('#')[0]}` : `Delete`))).toEqual(['Put PATIENT', 'Put INVITE', 'Put patient:P-1', 'Put INVITELINK']);
    expect(items[0]!.Put).toMatchObject({ ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': 1 } });
    expect(items[1]!.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)' });
    expect(items[2]!.Put).toMatchObject({ TableName: 'audit-test', Item: { action: 'invitation.created', actor: 'frontdesk' } });
    expect(items[3]!.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)', Item: { patientId: 'P-1', ttl: expect.any(Number) } });

    const mail = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(mail).toMatchObject({ Source: 'portal@example.test', Destination: { ToAddresses: ['pat@example.test'] }, ConfigurationSetName: 'portal-tls' });
    const token = tokenFromEmail();
    expect(mail.Message!.Body!.Text!.Data).toContain(`https://portal.example.test/portal/register#token=${token}`);
    expect(mail.Message!.Body!.Html!.Data).toContain(`https://portal.example.test/portal/register#token=${token}`);
    expect(JSON.stringify(mail)).not.toContain(res.json.pin);
    // rule 9: the token is nowhere in the table, only its hash
    expect(JSON.stringify([...table.values()])).not.toContain(token);
    expect(table.has(`INVITELINK#${hashToken(token)}|LINK`)).toBe(true);
    expect(JSON.stringify([...table.values()])).not.toContain(res.json.pin);
  });

  it('rule 14: the link is built from the configured portal URL, never the Host header', async () => {
    ses.on(SendEmailCommand).resolves({});
    const event = staffCall('POST', '/patients/{patientId}/portal/invitation');
    event.headers = { ...event.headers, Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' };
    expect((await call(create, event)).status).toBe(201);
    const text = ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Message!.Body!.Text!.Data!;
    expect(text).not.toContain('evil.example');
    expect(text).toContain('https://portal.example.test/portal/register#token=');
  });

  it('rule 24: SES refuses → 201 with delivery Failed and the record marked so; resend then delivers, with the same PIN and no new seal', async () => {
    ses.on(SendEmailCommand).rejectsOnce(Object.assign(new Error('Email address is not verified: pat@example.test'), { name: 'MessageRejected' })).resolves({});
    const res = await call(create, staffCall('POST', '/patients/{patientId}/portal/invitation'));
    expect(res.status).toBe(201);
    expect(res.json.delivery).toBe('Failed');
    expect(res.json.record.invite.delivery).toBe('Failed');
    expect(table.get('PATIENT#P-1|RECORD')!.invite.delivery).toBe('Failed');
    expect(JSON.stringify(res.json)).not.toContain('not verified');

    const again = await call(resend, staffCall('POST', '/patients/{patientId}/portal/invitation/resend'));
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ delivery: 'Sent', record: { invite: { status: 'Pending', delivery: 'Sent' } } });
    expect(kms.commandCalls(EncryptCommand)).toHaveLength(1);
    expect(tokenFromEmail(1)).not.toBe(tokenFromEmail(0));
    expect(table.has(`INVITELINK#${hashToken(tokenFromEmail(0))}|LINK`)).toBe(false);

    const shown = await call(accessCode, staffCall('GET', '/patients/{patientId}/portal/access-code'));
    expect(shown).toMatchObject({ status: 200, json: { pin: res.json.pin } });
  });

  it('403 for staff whose invite permission was taken away: nothing sealed, written or sent', async () => {
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-frontdesk', { permissions: { canInvite: false, autoInvite: false } }));
    for (const [handler, method, path] of [
      [create, 'POST', '/patients/{patientId}/portal/invitation'],
      [resend, 'POST', '/patients/{patientId}/portal/invitation/resend'],
      [cancel, 'DELETE', '/patients/{patientId}/portal/invitation'],
    ] as const) {
      const res = await call(handler, staffCall(method, path));
      expect(res.status, path).toBe(403);
      expect(res.headers['content-type']).toBe('application/problem+json');
    }
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(kms.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it('404 without a record, 422 without an email, 409 for a registered patient, 401 without a token', async () => {
    table.clear();
    expect((await call(create, staffCall('POST', '/x'))).status).toBe(404);
    table.set('PATIENT#P-1|RECORD', record({ email: undefined }));
    expect((await call(create, staffCall('POST', '/x'))).json).toMatchObject({ status: 422, type: '/problems/no-email' });
    table.set('PATIENT#P-1|RECORD', record({ accountId: 'acc-1', username: 'pat', registration: 'NormalRegistration' }));
    expect((await call(create, staffCall('POST', '/x'))).json).toMatchObject({ status: 409, type: '/problems/already-registered' });
    expect((await call(create, apiEvent({ method: 'POST', pathParameters: { patientId: 'P-1' } }))).status).toBe(401);
  });
});

describe('cancel and access code', () => {
  it('cancel: 200 record Cancelled, link deleted, seal dropped; then access-code 404 and resend 404', async () => {
    ses.on(SendEmailCommand).resolves({});
    await call(create, staffCall('POST', '/x'));
    const token = tokenFromEmail();
    const res = await call(cancel, staffCall('DELETE', '/x'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ invite: { status: 'Cancelled' }, statusMessage: 'Enabled / Not Registered / No Invite' });
    expect(table.has(`INVITELINK#${hashToken(token)}|LINK`)).toBe(false);
    expect(table.get('INVITE#P-1|INVITATION')!.secrets).toBeUndefined();
    expect((await call(accessCode, staffCall('GET', '/x'))).json).toMatchObject({ status: 404, type: '/problems/no-pending-invitation' });
    expect((await call(resend, staffCall('POST', '/x'))).status).toBe(404);
  });

  it('rule 18: access-code decrypts with the invitation context and writes an audit entry without the PIN before answering', async () => {
    ses.on(SendEmailCommand).resolves({});
    const created = await call(create, staffCall('POST', '/x'));
    const res = await call(accessCode, staffCall('GET', '/x', staffToken({ username: 'nurse' })));
    expect(res).toMatchObject({ status: 200, json: { pin: created.json.pin, expiresAt: created.json.expiresAt } });
    expect(kms.commandCalls(DecryptCommand)[0]!.args[0].input.EncryptionContext).toMatchObject({ purpose: 'invitation-pin', patientId: 'P-1' });
    const audit = db.commandCalls(PutCommand).map((c) => c.args[0].input.Item!).find((i) => i.action === 'invitation.pin-viewed');
    expect(audit).toMatchObject({ pk: 'patient:P-1', actor: 'nurse', outcome: 'success' });
    expect(JSON.stringify(audit)).not.toContain(created.json.pin);
  });

  it('access-code: no PIN is shown when the audit entry cannot be written', async () => {
    ses.on(SendEmailCommand).resolves({});
    await call(create, staffCall('POST', '/x'));
    db.on(PutCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    const res = await call(accessCode, staffCall('GET', '/x'));
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.json)).not.toMatch(/[2-9A-HJKMNP-Z]{6}"/);
  });
});

describe('the patient side', () => {
  async function invite() {
    ses.on(SendEmailCommand).resolves({});
    const created = await call(create, staffCall('POST', '/x'));
    return { pin: created.json.pin as string, token: tokenFromEmail() };
  }
  const checkLink = (token: string) => call(lookup, apiEvent({ method: 'POST', resource: '/invitations/lookup', body: { token } }));
  const registerWith = (body: unknown) => call(registrations, apiEvent({ method: 'POST', resource: '/registrations', body }));

  it('POST /invitations/lookup: 200 with the practice name; rule 11: unknown and cancelled get byte-identical 410 bodies', async () => {
    const { token } = await invite();
    const ok = await checkLink(token);
    expect(ok).toMatchObject({ status: 200, json: { practiceName: 'Our practice', needs: ['pin'], kind: 'patient' } });
    const unknown = await checkLink('a'.repeat(43));
    await call(cancel, staffCall('DELETE', '/x'));
    const cancelled = await checkLink(token);
    expect(unknown.status).toBe(410);
    expect(cancelled.status).toBe(410);
    expect(JSON.stringify(cancelled.json)).toBe(JSON.stringify(unknown.json));
    expect(unknown.headers['content-type']).toBe('application/problem+json');
  });

  it('POST /registrations: 201, the Cognito user is the new accountId, the record registered in one transaction', async () => {
    const { pin, token } = await invite();
    idp.on(AdminCreateUserCommand).resolves({});
    idp.on(AdminSetUserPasswordCommand).resolves({});
    const res = await registerWith({ token, pin, username: 'pat.one', password: 'correct horse battery staple meadow' });
    expect(res.status).toBe(201);
    const { accountId } = res.json;
    expect(res.json).toEqual({ accountId: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'pat.one' });
    expect(idp.commandCalls(AdminCreateUserCommand)[0]!.args[0].input).toMatchObject({ UserPoolId: 'us-east-1_patients', Username: accountId, MessageAction: 'SUPPRESS' });
    expect(idp.commandCalls(AdminSetUserPasswordCommand)[0]!.args[0].input).toMatchObject({ Username: accountId, Permanent: true });
    const final = db.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems!;
    expect(final.map((i) => (i.Put ? String(i.Put.Item!.pk).split('#')[0] : `Delete ${String(i.Delete!.Key!.pk).split('#')[0]}`))).toEqual([
      'PATIENT', 'INVITE', 'Delete INVITELINK', 'ACCOUNT', 'USERNAME', 'patient:P-1',
    ]);
    expect(table.get('PATIENT#P-1|RECORD')).toMatchObject({ accountId, username: 'pat.one', registration: 'NormalRegistration', invite: { status: 'Accepted' } });
    expect((await checkLink(token)).status).toBe(410);
  });

  it('rule 24: Cognito fails → a generic 500 and nothing registered; the retry completes with the same accountId', async () => {
    const { pin, token } = await invite();
    idp.on(AdminCreateUserCommand).rejectsOnce(Object.assign(new Error('boom'), { name: 'InternalErrorException' })).rejects(Object.assign(new Error('exists'), { name: 'UsernameExistsException' }));
    idp.on(AdminSetUserPasswordCommand).resolves({});
    const body = { token, pin, username: 'pat.one', password: 'correct horse battery staple meadow' };
    const first = await registerWith(body);
    expect(first.status).toBe(500);
    expect(JSON.stringify(first.json)).not.toMatch(/boom|InternalError/);
    expect(table.get('PATIENT#P-1|RECORD')!.registration).toBe('NotRegistered');
    const second = await registerWith(body);
    expect(second.status).toBe(201);
    const created = idp.commandCalls(AdminCreateUserCommand).map((c) => c.args[0].input.Username);
    expect(new Set(created)).toEqual(new Set([second.json.accountId]));
    expect(idp.commandCalls(AdminDeleteUserCommand)).toHaveLength(0);
  });

  it('wrong PIN → 401 problem; bad input → 400 naming the field; a weak password → 400 with the reason in words', async () => {
    const { pin, token } = await invite();
    const wrong = await registerWith({ token, pin: pin === 'ZZZZZZ' ? 'YYYYYY' : 'ZZZZZZ', username: 'pat.one', password: 'correct horse battery staple meadow' });
    expect(wrong.json).toMatchObject({ status: 401, type: '/problems/wrong-pin' });
    const bad = await registerWith({ token, pin, username: 'a b', password: 'correct horse battery staple meadow', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.extra', 'body.username']);
    const weak = await registerWith({ token, pin, username: 'pat.one', password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.json.errors).toContainEqual({ path: 'body.password', message: 'must be at least 15 characters' });
    expect(idp.calls()).toHaveLength(0);
  });
});
