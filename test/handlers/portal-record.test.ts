import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as getRecord } from '../../lambdas/handlers/portal-record/get.ts';
import { handler as putRecord } from '../../lambdas/handlers/portal-record/put.ts';
import { apiEvent, call } from '../support/events.ts';
import { adminToken, serveJwks, staffToken } from '../support/tokens.ts';
import { staffRecordOf } from '../../lambdas/http/staff-session.ts';
import { enabledStaffRecord } from '../support/staff-records.ts';

const db = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESClient);
beforeEach(() => serveJwks());
afterEach(() => {
  db.reset();
  ses.reset();
});

const put = (body: unknown, headers: Record<string, string> = {}) =>
  apiEvent({ method: 'PUT', pathParameters: { patientId: 'P-1' }, token: staffToken({ username: 'frontdesk' }), body, headers });

const stored = {
  pk: 'PATIENT#P-1', sk: 'RECORD', listKey: 'PATIENT', emailKey: 'pat@example.test',
  patientId: 'P-1', email: 'Pat@example.test', accessEnabled: true, cases: [], registration: 'NotRegistered',
  invite: { status: 'None' }, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 2,
};

describe('PUT /patients/{patientId}/portal', () => {
  it('creates the record and its audit entry in one transaction, conditional on the record being new', async () => {
    db.on(GetCommand).resolves({});
    db.on(TransactWriteCommand).resolves({});
    const res = await call(putRecord, put({ email: 'Pat@example.test', cases: ['C-7'] }));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ patientId: 'P-1', version: 1, statusMessage: 'Enabled / Not Registered / No Invite' });
    expect(res.headers.etag).toBe('"1"');
    const [write] = db.commandCalls(TransactWriteCommand);
    const items = write!.args[0].input.TransactItems!;
    expect(items).toHaveLength(2);
    expect(items[0]!.Put).toMatchObject({ TableName: 'records-test', ConditionExpression: 'attribute_not_exists(pk)', Item: { pk: 'PATIENT#P-1', emailKey: 'pat@example.test', listKey: 'PATIENT' } });
    expect(items[1]!.Put).toMatchObject({ TableName: 'audit-test', ConditionExpression: 'attribute_not_exists(pk)', Item: { pk: 'patient:P-1', actor: 'frontdesk', action: 'portal-record.created', sourceIp: '203.0.113.9' } });
    expect(JSON.stringify(items[1])).not.toContain('example.test');
  });

  it('edits conditionally on the version it read', async () => {
    db.on(GetCommand).resolves({ Item: stored });
    db.on(TransactWriteCommand).resolves({});
    const res = await call(putRecord, put({ accessEnabled: false }, { 'If-Match': '"2"' }));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ version: 3, statusMessage: 'Disabled / Not Registered / No Invite' });
    expect(res.json).not.toHaveProperty('pk');
    const put0 = db.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!;
    expect(put0).toMatchObject({ ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': 2 } });
  });

  it('answers 409 for a stale If-Match without writing', async () => {
    db.on(GetCommand).resolves({ Item: stored });
    const res = await call(putRecord, put({ comment: 'x' }, { 'If-Match': '1' }));
    expect(res.status).toBe(409);
    expect(res.json.type).toBe('/problems/version-conflict');
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 409 when another writer wins between read and write under If-Match', async () => {
    db.on(GetCommand).resolves({ Item: stored });
    db.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }),
    );
    const res = await call(putRecord, put({ comment: 'x' }, { 'If-Match': '2' }));
    expect(res.status).toBe(409);
  });

  it('turns an unexpected backend failure into a generic 500 that names no internals', async () => {
    db.on(GetCommand).rejects(Object.assign(new Error('ResourceNotFoundException: Requested resource not found: Table: records-test'), { name: 'ResourceNotFoundException' }));
    const res = await call(putRecord, put({ comment: 'x' }));
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.stringify(res.json)).not.toMatch(/records-test|ResourceNotFound|Table/);
    expect(res.json.detail).toContain(res.headers['x-request-id']);
  });
});

describe('GET /patients/{patientId}/portal', () => {
  it('answers 404 problem for a record that does not exist', async () => {
    db.on(GetCommand).resolves({});
    const res = await call(getRecord, apiEvent({ pathParameters: { patientId: 'P-404' }, token: staffToken() }));
    expect(res.status).toBe(404);
    expect(res.json.type).toBe('/problems/not-found');
  });
});

describe("rule 29: PUT …/portal changing a registered record's email", () => {
  const registered = { ...stored, accountId: 'acc-1', username: 'pat.one', usernameKey: 'pat.one', registration: 'NormalRegistration', invite: { status: 'Accepted' } };
  const byKey = (items: Record<string, unknown>) => (input: { Key?: { pk?: string } }) => ({ Item: items[input.Key?.pk ?? ''] });

  it('rule 29: 403 in words for staff without invite permission; nothing written, nothing sent', async () => {
    db.on(GetCommand).callsFake(byKey({ 'PATIENT#P-1': registered }));
    // The caller's own staff record (read with the token check) has no invite permission.
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-frontdesk', { permissions: { canInvite: false, autoInvite: false } }));
    const res = await call(putRecord, put({ email: 'attacker@example.test' }));
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/invite/);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it('rule 29: an admin may, and the old address gets the notice through SES', async () => {
    db.on(GetCommand).callsFake(byKey({ 'PATIENT#P-1': registered }));
    vi.mocked(staffRecordOf).mockResolvedValue(enabledStaffRecord('sub-boss', { roles: ['admin'], permissions: { canInvite: false, autoInvite: false } }));
    db.on(TransactWriteCommand).resolves({});
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const res = await call(
      putRecord,
      apiEvent({ method: 'PUT', pathParameters: { patientId: 'P-1' }, token: adminToken(), body: { email: 'new@example.test' } }),
    );
    expect(res.status).toBe(200);
    const sent = ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.Destination?.ToAddresses).toEqual(['Pat@example.test']);
    expect(sent[0]!.Message?.Body?.Text?.Data).not.toMatch(/token|https?:|new@example/);
  });
});
