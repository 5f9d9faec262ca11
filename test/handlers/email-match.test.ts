/**
 * The email-match and note-signed handlers with every AWS client mocked (aws-sdk-client-mock):
 * DynamoDB answers from the in-memory DynamoDB (test/support/memory-dynamo.ts: the adapters'
 * conditions and updates are evaluated, not string-matched), SES and Cognito are scripted per
 * test. Staff tokens are checked for real.
 */
import { AdminCreateUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '../../lambdas/config.ts';
import { hashToken } from '../../lambdas/domain/invitations.ts';
import { handler as confirm } from '../../lambdas/handlers/email-match/confirm.ts';
import { handler as request } from '../../lambdas/handlers/email-match/request.ts';
import { handler as noteSigned } from '../../lambdas/handlers/auto-invite/note-signed.ts';
import { apiEvent, call } from '../support/events.ts';
import { memoryDynamo, type Item, type MemoryDynamo } from '../support/memory-dynamo.ts';
import { serveJwks, staffToken } from '../support/tokens.ts';
import { staffRecordOf } from '../../lambdas/http/staff-session.ts';
import { enabledStaffRecord } from '../support/staff-records.ts';

process.env.PIN_KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/pin-test';
resetConfigForTests();

const db = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESClient);
const idp = mockClient(CognitoIdentityProviderClient);
const kms = mockClient(KMSClient);

let mem: MemoryDynamo;
/** The records table of the in-memory DynamoDB (read afresh: a transaction replaces the map). */
const records = () => mem.table('records-test');

/** Every document-client command answered by the in-memory DynamoDB (conditions, updates and byEmail queries evaluated); the mock still records the calls. */
function memoryTable(): void {
  mem = memoryDynamo();
  for (const Command of [GetCommand, BatchGetCommand, PutCommand, DeleteCommand, UpdateCommand, QueryCommand, TransactWriteCommand]) {
    db.on(Command as never).callsFake(((input: unknown) => mem.send(new (Command as new (i: unknown) => { input: unknown })(input))) as never);
  }
}

const putRecord = (patientId: string, over: Item = {}) => {
  const email = over.email ?? `${patientId.toLowerCase()}@example.test`;
  records().set(`PATIENT#${patientId}|RECORD`, {
    pk: `PATIENT#${patientId}`, sk: 'RECORD', listKey: 'PATIENT', emailKey: email.toLowerCase(), patientId, email, accessEnabled: true, cases: ['C-1'],
    registration: 'NotRegistered', invite: { status: 'None' }, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 1, ...over,
  });
};
const putSettings = (settings: Item) => records().set('SETTINGS|PRACTICE', { pk: 'SETTINGS', sk: 'PRACTICE', settings, version: 1 });

beforeEach(() => {
  serveJwks();
  memoryTable();
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
});
afterEach(() => {
  db.reset();
  ses.reset();
  idp.reset();
  kms.reset();
});

const ask = (email: string, headers: Record<string, string> = {}) =>
  call(request, apiEvent({ method: 'POST', resource: '/registrations/email', body: { email }, headers }));

describe('POST /registrations/email', () => {
  it('rule 13 and 14: one 202 body matched or not; the match alone gets a transaction of link items only and a verify link from PORTAL_URL', async () => {
    putSettings({ emailMatch: true });
    putRecord('P-1');
    const matched = await ask('P-1@example.test', { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' });
    const writesAfterMatch = db.commandCalls(TransactWriteCommand).length;
    const unmatched = await ask('nobody@example.test');
    expect(matched.status).toBe(202);
    expect(unmatched.status).toBe(202);
    expect(matched.json).toEqual(unmatched.json);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(writesAfterMatch);

    const [tx] = db.commandCalls(TransactWriteCommand);
    const items = tx!.args[0].input.TransactItems!;
    // The state, the link, the audit entry: nothing under PATIENT# (the grant would refuse it anyway).
    expect(items.map((i) => String((i.Put?.Item ?? i.Delete?.Key)!.pk).split('#')[0])).toEqual(['EMAILMATCH', 'patient:P-1', 'EMAILMATCHLINK']);
    expect(items[0]!.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)' });
    expect(items[0]!.Put!.Item).not.toHaveProperty('emailKey'); // never found by the byEmail index

    const mails = ses.commandCalls(SendEmailCommand);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!.args[0].input;
    expect(mail.Destination!.ToAddresses).toEqual(['p-1@example.test']);
    const text = mail.Message!.Body!.Text!.Data!;
    const token = /https:\/\/portal\.example\.test\/portal\/verify#token=([A-Za-z0-9_-]{43})/.exec(text)?.[1];
    expect(token).toBeDefined();
    expect(text).not.toContain('evil.example');
    expect(records().has(`EMAILMATCHLINK#${hashToken(token!)}|LINK`)).toBe(true);
    expect(JSON.stringify([...mem.tables.values()].flatMap((t) => [...t.values()]))).not.toContain(token);
  });

  it('self-registration off (the default): the same 202 and no lookup, no email', async () => {
    putRecord('P-1');
    const res = await ask('p-1@example.test');
    expect(res.status).toBe(202);
    expect(db.commandCalls(QueryCommand)).toHaveLength(0);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('a malformed address or an unknown field is 400 problem+json, never a 5xx', async () => {
    const bad = await call(request, apiEvent({ method: 'POST', resource: '/registrations/email', body: { email: 'not-an-email', admin: true } }));
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.admin', 'body.email']);
  });
});

describe('POST /registrations/email/confirm', () => {
  it('201: the Cognito login is the new accountId, and record, state, link, account, username and audit are one transaction', async () => {
    putSettings({ emailMatch: true });
    putRecord('P-1');
    await ask('p-1@example.test');
    const token = /#token=([A-Za-z0-9_-]+)/.exec(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Message!.Body!.Text!.Data!)![1]!;
    idp.on(AdminCreateUserCommand).resolves({});
    idp.on(AdminSetUserPasswordCommand).resolves({});
    const res = await call(confirm, apiEvent({ method: 'POST', resource: '/registrations/email/confirm', body: { token, username: 'pat.one', password: 'correct horse battery staple meadow' } }));
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ accountId: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'pat.one' });
    expect(idp.commandCalls(AdminCreateUserCommand)[0]!.args[0].input).toMatchObject({ Username: res.json.accountId });
    const last = db.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems!;
    expect(last.map((i) => (i.Put ? `Put ${String(i.Put.Item!.pk).split('#')[0]}` : `Delete ${String(i.Delete!.Key!.pk).split('#')[0]}`))).toEqual([
      'Put PATIENT',
      'Put EMAILMATCH',
      'Delete EMAILMATCHLINK',
      'Put ACCOUNT',
      'Put USERNAME',
      'Put patient:P-1',
    ]);
    expect(last[0]!.Put!.Item).toMatchObject({ accountId: res.json.accountId, username: 'pat.one', registration: 'NormalRegistration' });
    expect(last[5]!.Put!.Item).toMatchObject({ action: 'registration.completed', detail: { method: 'email-match' } });
  });

  it('rule 11: an unknown token is 410 problem+json; Cognito is never asked', async () => {
    const res = await call(confirm, apiEvent({ method: 'POST', resource: '/registrations/email/confirm', body: { token: 'A'.repeat(43), username: 'pat.one', password: 'correct horse battery staple meadow' } }));
    expect(res.status).toBe(410);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ type: '/problems/link-gone', status: 410 });
    expect(idp.calls()).toHaveLength(0);
  });
});

describe('POST /events/note-signed', () => {
  const signed = (body: unknown, token: string | null = staffToken({ username: 'ehr-bridge' })) =>
    call(noteSigned, apiEvent({ method: 'POST', resource: '/events/note-signed', body, ...(token ? { token } : {}) }));

  it('202 invited: the staff invitation (KMS seal, one transaction, SES), the caller as actor, no PIN in the answer', async () => {
    putSettings({ autoInvite: true });
    // The signer posts as themselves: their own record's permissions (rule 28).
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-dr.lee', { permissions: { canInvite: true, autoInvite: true } }));
    putRecord('P-1');
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('sealed') });
    const res = await signed({ patientId: 'P-1', signedBy: 'dr.lee' }, staffToken({ username: 'dr.lee' }));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ invited: true, delivery: 'Sent', expiresAt: expect.any(String) });
    expect(JSON.stringify(res.json)).not.toMatch(/pin/i);
    const created = db.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![2]!.Put!.Item!;
    expect(created).toMatchObject({ action: 'invitation.created', actor: 'dr.lee', detail: { trigger: 'note-signed', signedBy: 'dr.lee' } });
    expect(ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Message!.Body!.Text!.Data).toContain('/portal/register#token=');
  });

  it('202 invited: false with the reason when the practice setting is off; nothing sealed or sent', async () => {
    putRecord('P-1');
    const res = await signed({ patientId: 'P-1', signedBy: 'dr.lee' });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ invited: false, reason: 'practice-setting-off' });
    expect(kms.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it("rule 28: 403 in words for a caller without invite permission, whatever signer the body names; nothing sealed, written or sent", async () => {
    putSettings({ autoInvite: true });
    // The caller's own record takes invite permission away; the signer named in the body has it.
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-ehr-bridge', { permissions: { canInvite: false, autoInvite: true } }));
    putRecord('P-1');
    for (const signedBy of ['dr.lee', 'ehr-bridge']) {
      const res = await signed({ patientId: 'P-1', signedBy });
      expect(res.status).toBe(403);
      expect(res.json.detail).toMatch(/permissions/);
    }
    const res = await signed({ patientId: 'P-1', signedBy: 'dr.lee' });
    expect(res.json.detail).toMatch(/permissions/);
    expect(kms.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('401 without a staff token; 400 for a bad body', async () => {
    expect((await signed({ patientId: 'P-1', signedBy: 'dr.lee' }, null)).status).toBe(401);
    const bad = await signed({ patientId: 'P 1', signedBy: 'dr.lee', pin: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.patientId', 'body.pin']);
  });
});
