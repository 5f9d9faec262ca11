/**
 * The contract's error conventions (api.md "Conventions"), table-driven against the real
 * handlers: each bad input gets its status and a problem+json body, never a 500 or a stack.
 * DynamoDB and Cognito are mocked; the token checks run for real against a test JWKS.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as auditList } from '../../lambdas/handlers/audit/list.ts';
import { handler as search } from '../../lambdas/handlers/patients/search.ts';
import { handler as getRecord } from '../../lambdas/handlers/portal-record/get.ts';
import { handler as putRecord } from '../../lambdas/handlers/portal-record/put.ts';
import { handler as putSettings } from '../../lambdas/handlers/settings/put.ts';
import { handler as putPermissions } from '../../lambdas/handlers/staff-permissions/put.ts';
import { apiEvent, call, type EventOptions } from '../support/events.ts';
import { memoryDynamo, type MemoryDynamo } from '../support/memory-dynamo.ts';
import { adminToken, otherKey, serveJwks, staffToken } from '../support/tokens.ts';

const idp = mockClient(CognitoIdentityProviderClient);
/** The in-memory DynamoDB (test/support/memory-dynamo.ts), with every command sent to it counted. */
let db: MemoryDynamo;
let dbCalls: string[];

beforeEach(() => {
  serveJwks();
  db = memoryDynamo();
  dbCalls = [];
  vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(((command: { input: unknown }) => {
    dbCalls.push(command.constructor.name);
    return db.send(command);
  }) as never);
  idp.onAnyCommand().resolves({});
});
afterEach(() => {
  vi.restoreAllMocks();
  idp.reset();
});

const put = (o: EventOptions = {}) =>
  apiEvent({ method: 'PUT', resource: '/patients/{patientId}/portal', pathParameters: { patientId: 'P-1' }, token: staffToken(), body: {}, ...o });

const cases: { name: string; handler: unknown; event: () => ReturnType<typeof apiEvent>; status: number; type: string; check?: (json: any, headers: Record<string, string>) => void }[] = [
  { name: 'malformed JSON', handler: putRecord, event: () => put({ body: '{"email": ' }), status: 400, type: 'validation-error' },
  { name: 'a JSON array instead of an object', handler: putRecord, event: () => put({ body: [] }), status: 400, type: 'validation-error' },
  { name: 'an empty body', handler: putRecord, event: () => put({ body: '' }), status: 400, type: 'validation-error' },
  {
    name: 'an unknown field, named in errors',
    handler: putRecord,
    event: () => put({ body: { email: 'a@example.test', shoeSize: 9 } }),
    status: 400,
    type: 'validation-error',
    check: (json) => expect(json.errors).toEqual([{ path: 'body.shoeSize', message: 'is not a known field' }]),
  },
  {
    name: 'several bad fields, one error each',
    handler: putRecord,
    event: () => put({ body: { email: 'not-an-email', phone: '555', accessEnabled: 'yes' } }),
    status: 400,
    type: 'validation-error',
    check: (json) => expect(json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.accessEnabled', 'body.email', 'body.phone']),
  },
  { name: 'a body over 16 KiB', handler: putRecord, event: () => put({ body: { comment: 'x'.repeat(16 * 1024) } }), status: 413, type: 'payload-too-large' },
  { name: 'a non-JSON content type', handler: putRecord, event: () => put({ body: 'email=a', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), status: 415, type: 'unsupported-media-type' },
  {
    name: 'a bad patientId',
    handler: getRecord,
    event: () => apiEvent({ pathParameters: { patientId: 'P 1/../x' }, token: staffToken() }),
    status: 400,
    type: 'validation-error',
    check: (json) => expect(json.errors[0].path).toBe('path.patientId'),
  },
  { name: 'a patientId over 64 characters', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P'.repeat(65) }, token: staffToken() }), status: 400, type: 'validation-error' },
  { name: 'a malformed If-Match', handler: putRecord, event: () => put({ headers: { 'If-Match': 'banana' } }), status: 400, type: 'validation-error' },
  { name: 'a forged search cursor', handler: search, event: () => apiEvent({ query: { cursor: Buffer.from('{"pk":"SETTINGS","sk":"PRACTICE"}').toString('base64url') }, token: staffToken() }), status: 400, type: 'validation-error' },
  { name: 'a limit out of range', handler: search, event: () => apiEvent({ query: { limit: '1000' }, token: staffToken() }), status: 400, type: 'validation-error' },
  { name: 'an unknown query parameter', handler: search, event: () => apiEvent({ query: { q: 'x' }, token: staffToken() }), status: 400, type: 'validation-error' },
  {
    name: 'a missing token',
    handler: getRecord,
    event: () => apiEvent({ pathParameters: { patientId: 'P-1' } }),
    status: 401,
    type: 'unauthorized',
    check: (_json, headers) => expect(headers['www-authenticate']).toBe('Bearer'),
  },
  { name: 'a malformed Authorization header', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, headers: { Authorization: 'Basic abc' } }), status: 401, type: 'unauthorized' },
  { name: 'an expired token', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, token: staffToken({ expiresInSeconds: -60 }) }), status: 401, type: 'unauthorized' },
  { name: 'a token of the patient pool', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, token: staffToken({ pool: 'us-east-1_patients', clientId: 'patientclient' }) }), status: 401, type: 'unauthorized' },
  { name: 'a token of another app client', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, token: staffToken({ clientId: 'someoneelse' }) }), status: 401, type: 'unauthorized' },
  { name: 'an ID token instead of an access token', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, token: staffToken({ tokenUse: 'id' }) }), status: 401, type: 'unauthorized' },
  { name: 'a token signed with another key', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, token: staffToken({ signWith: otherKey }) }), status: 401, type: 'unauthorized' },
  { name: 'a staff-pool user in no group', handler: getRecord, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, token: staffToken({ groups: [] }) }), status: 403, type: 'forbidden' },
  { name: 'staff without admin on the audit trail', handler: auditList, event: () => apiEvent({ pathParameters: { patientId: 'P-1' }, token: staffToken() }), status: 403, type: 'forbidden' },
  { name: 'staff without admin changing settings', handler: putSettings, event: () => apiEvent({ method: 'PUT', body: { autoInvite: true }, token: staffToken() }), status: 403, type: 'forbidden' },
  { name: 'staff without admin changing permissions', handler: putPermissions, event: () => apiEvent({ method: 'PUT', pathParameters: { staffId: 'frontdesk' }, body: { canInvite: true }, token: staffToken() }), status: 403, type: 'forbidden' },
  { name: 'an admin sending a reset window over 24 hours', handler: putSettings, event: () => apiEvent({ method: 'PUT', body: { resetMinutes: 1441 }, token: adminToken() }), status: 400, type: 'validation-error' },
  { name: 'an admin sending a plain-http portal URL', handler: putSettings, event: () => apiEvent({ method: 'PUT', body: { portalUrl: 'http://evil.example' }, token: adminToken() }), status: 400, type: 'validation-error' },
  { name: 'an admin changing the read-only portal URL (issue 13 item 5)', handler: putSettings, event: () => apiEvent({ method: 'PUT', body: { portalUrl: 'https://evil.example' }, token: adminToken() }), status: 400, type: 'validation-error' },
];

describe('bad input is answered per the contract', () => {
  it.each(cases)('$name → $status', async ({ handler, event, status, type, check }) => {
    const res = await call(handler, event());
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ type: `/problems/${type}`, status });
    expect(typeof res.json.title).toBe('string');
    expect(res.headers['x-request-id']).toMatch(/.+/);
    expect(JSON.stringify(res.json)).not.toMatch(/at .+\.(ts|js):\d+|Error:|node_modules/);
    check?.(res.json, res.headers);
  });

  it('rejected requests never reach the database', async () => {
    for (const c of cases) await call(c.handler, c.event());
    expect(dbCalls).toEqual([]);
  });
});
