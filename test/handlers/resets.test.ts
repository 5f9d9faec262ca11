/**
 * The reset handlers with every AWS client mocked (aws-sdk-client-mock): DynamoDB answers from the
 * in-memory DynamoDB (test/support/memory-dynamo.ts: the adapters' conditions and updates are
 * evaluated, not string-matched), SES and Cognito are scripted. Races are the integration tests'
 * business; here: what is written where, what is sent, and the answers.
 */
import { AdminSetUserPasswordCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESET_REQUEST_FLOOR_MS } from '../../lambdas/domain/resets.ts';
import { sha256 } from '../../lambdas/domain/secrets.ts';
import { handler as confirm } from '../../lambdas/handlers/resets/confirm.ts';
import { handler as request } from '../../lambdas/handlers/resets/request.ts';
import { handler as staffReset } from '../../lambdas/handlers/resets/staff.ts';
import { apiEvent, call } from '../support/events.ts';
import { memoryDynamo, type Item, type MemoryDynamo } from '../support/memory-dynamo.ts';
import { serveJwks, staffToken } from '../support/tokens.ts';

const db = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESClient);
const idp = mockClient(CognitoIdentityProviderClient);

let mem: MemoryDynamo;
/** The records table of the in-memory DynamoDB (read afresh: a transaction replaces the map). */
const records = () => mem.table('records-test');

/** Every document-client command answered by the in-memory DynamoDB; the mock still records the calls. */
function memoryTable(): void {
  mem = memoryDynamo();
  for (const Command of [GetCommand, BatchGetCommand, PutCommand, DeleteCommand, UpdateCommand, QueryCommand, TransactWriteCommand]) {
    db.on(Command as never).callsFake(((input: unknown) => mem.send(new (Command as new (i: unknown) => { input: unknown })(input))) as never);
  }
}

const record = (over: Item = {}) => ({
  pk: 'PATIENT#P-1', sk: 'RECORD', listKey: 'PATIENT', patientId: 'P-1', email: 'pat@example.test', accessEnabled: true, cases: ['C-1'],
  accountId: 'acc-1', username: 'pat.one', registration: 'NormalRegistration', invite: { status: 'Accepted' },
  createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 3, ...over,
});

const ask = (username: string, headers: Record<string, string> = {}) =>
  call(request, apiEvent({ method: 'POST', resource: '/credential-resets', body: { username }, headers }));
const mailText = (n = -1) => ses.commandCalls(SendEmailCommand).at(n)!.args[0].input.Message!.Body!.Text!.Data!;

beforeEach(() => {
  serveJwks();
  memoryTable();
  records().set('PATIENT#P-1|RECORD', record());
  records().set('USERNAME#pat.one|USERNAME', { pk: 'USERNAME#pat.one', sk: 'USERNAME', accountId: 'acc-1', patientId: 'P-1' });
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
});
afterEach(() => {
  db.reset();
  ses.reset();
  idp.reset();
});

describe('POST /credential-resets', () => {
  it('202; rule 8: writes only RESET items and the audit entry, never the record; rule 14: the link ignores the Host header', async () => {
    const res = await ask('Pat.One', { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' });
    expect(res.status).toBe(202);
    const items = db.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items.map((i) => String((i.Put?.Item ?? i.Delete?.Key)!.pk).split('#')[0])).toEqual(['RESET', 'patient:P-1', 'RESETLINK']);
    expect(db.commandCalls(PutCommand)).toHaveLength(0);
    expect(records().get('PATIENT#P-1|RECORD')!.version).toBe(3);
    const text = mailText();
    expect(text).not.toContain('evil.example');
    const token = /https:\/\/portal\.example\.test\/portal\/reset#token=([A-Za-z0-9_-]+)/.exec(text)![1]!;
    expect(records().has(`RESETLINK#${sha256(token)}|LINK`)).toBe(true);
    expect(JSON.stringify([...mem.tables.values()].flatMap((t) => [...t.values()]))).not.toContain(token);
  });

  it('rule 13: an unknown username gets the byte-identical answer, no write and no email, and neither answers before the floor', async () => {
    const t0 = performance.now();
    const unknown = await ask('nobody-here');
    const elapsed = performance.now() - t0;
    const real = await ask('pat.one');
    expect(elapsed).toBeGreaterThanOrEqual(RESET_REQUEST_FLOOR_MS - 5);
    expect(unknown.status).toBe(202);
    expect(unknown.json).toEqual(real.json);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('400 for a body with unknown fields; never a 500 for bad input', async () => {
    const res = await call(request, apiEvent({ method: 'POST', resource: '/credential-resets', body: { username: 'x', extra: 1 } }));
    expect(res.status).toBe(400);
  });
});

describe('POST /credential-resets/confirm', () => {
  it('200 without tokens: Cognito sets the password and signs out; the final transaction writes record, reset, link, account, username, the sign-in counter cleared (issue 16), audit', async () => {
    await ask('pat.one');
    const text = mailText();
    const token = /#token=([A-Za-z0-9_-]+)/.exec(text)![1]!;
    const pin = /PIN: ([A-Z0-9]{6})/.exec(text)![1]!;
    idp.on(AdminSetUserPasswordCommand).resolves({});
    idp.on(AdminUserGlobalSignOutCommand).resolves({});
    const res = await call(confirm, apiEvent({ method: 'POST', resource: '/credential-resets/confirm', body: { token, pin, username: 'pat.one', newPassword: 'quartz meadow harbor kettle' } }));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ message: expect.any(String) });
    expect(idp.commandCalls(AdminSetUserPasswordCommand)[0]!.args[0].input).toMatchObject({ UserPoolId: 'us-east-1_patients', Username: 'acc-1', Permanent: true });
    expect(idp.commandCalls(AdminUserGlobalSignOutCommand)[0]!.args[0].input).toMatchObject({ Username: 'acc-1' });
    const final = db.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems!;
    expect(final.map((i) => (i.Put ? String(i.Put.Item!.pk).split('#')[0] : i.Update ? `Update ${String(i.Update.Key!.pk).split('#')[0]}` : `Delete ${String(i.Delete!.Key!.pk).split('#')[0]}`))).toEqual([
      'PATIENT', 'RESET', 'Delete RESETLINK', 'ACCOUNT', 'USERNAME', 'Delete THROTTLE', 'patient:P-1',
    ]);
    expect(records().get('PATIENT#P-1|RECORD')).toMatchObject({ version: 4, revokedAt: expect.any(String) });
    expect(ses.commandCalls(SendEmailCommand).at(-1)!.args[0].input.Message!.Subject!.Data).toMatch(/credentials were changed/);
  });

  it('rule 11: an unknown token is 410 problem+json', async () => {
    const res = await call(confirm, apiEvent({ method: 'POST', resource: '/credential-resets/confirm', body: { token: 'x'.repeat(43), pin: 'ABCDEF', username: 'pat.one', newPassword: 'quartz meadow harbor kettle' } }));
    expect(res).toMatchObject({ status: 410, json: { type: '/problems/reset-link-gone' } });
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(idp.calls()).toHaveLength(0);
  });
});

describe('POST /patients/{patientId}/portal/credential-reset', () => {
  it('202 {expiresAt, delivery} for staff; 401 without a token', async () => {
    const event = apiEvent({ method: 'POST', resource: '/patients/{patientId}/portal/credential-reset', pathParameters: { patientId: 'P-1' }, token: staffToken() });
    const res = await call(staffReset, event);
    expect(res).toMatchObject({ status: 202, json: { delivery: 'Sent', expiresAt: expect.any(String) } });
    expect(mailText()).toContain('https://portal.example.test/portal/reset#token=');
    expect((await call(staffReset, apiEvent({ method: 'POST', pathParameters: { patientId: 'P-1' } }))).status).toBe(401);
  });
});
