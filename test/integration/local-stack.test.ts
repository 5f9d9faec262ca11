/**
 * The local stack itself: the emulators answer, the tables, pools, groups and seeded logins are
 * there as the CDK stack would have them, and the local API gateway answers what API Gateway
 * answers before a handler is involved (404, 405, 413).
 */
import { staffSession } from './support/staff-session.ts';
import { describe, expect, it } from 'vitest';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  GetGroupCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { auditTable, recordsTable } from '../../lib/data/tables.ts';
import { api, claims, cognito, dynamodb, jwtHeader, mailbox, signInDirect, stack } from './support/stack.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the emulators', () => {
  it('DynamoDB Local lists both tables', async () => {
    const { TableNames } = await dynamodb().send(new ListTablesCommand({}));
    expect(TableNames).toEqual(expect.arrayContaining([stack().tableName, stack().auditTableName]));
  });

  it('cognito-local answers', async () => {
    expect((await fetch(`${stack().cognitoEndpoint}/health`)).status).toBe(200);
  });

  it('the mailbox shows its web page and its store (a list; other files may have sent mail already)', async () => {
    const page = await fetch(stack().mailboxUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(Array.isArray(await mailbox())).toBe(true);
  });
});

describe('the tables', () => {
  it('the records table has the key schema and indexes of lib/data/tables.ts', async () => {
    const { Table } = await dynamodb().send(new DescribeTableCommand({ TableName: stack().tableName }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: recordsTable.partitionKey, KeyType: 'HASH' },
      { AttributeName: recordsTable.sortKey, KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((i) => ({
      indexName: i.IndexName,
      keys: i.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`),
      projection: i.Projection?.ProjectionType,
    }));
    expect(indexes).toHaveLength(recordsTable.indexes.length);
    for (const index of recordsTable.indexes) {
      const keys = [`${index.partitionKey}:HASH`, ...('sortKey' in index ? [`${index.sortKey}:RANGE`] : [])];
      expect(indexes).toContainEqual({ indexName: index.indexName, keys, projection: 'ALL' });
    }
  });

  it('the audit table has its key schema and no index', async () => {
    const { Table } = await dynamodb().send(new DescribeTableCommand({ TableName: stack().auditTableName }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: auditTable.partitionKey, KeyType: 'HASH' },
      { AttributeName: auditTable.sortKey, KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes ?? []).toEqual([]);
  });
});

describe('the user pools', () => {
  it('rule 34: the staff pool has its client with a secret (SECRET_HASH) and TOTP on for enrolled users', async () => {
    const { UserPool } = await cognito().send(new DescribeUserPoolCommand({ UserPoolId: stack().staffUserPoolId }));
    expect(UserPool?.Name).toBe('staff');
    expect(UserPool?.MfaConfiguration).toBe('OPTIONAL');
    const { UserPoolClient } = await cognito().send(
      new DescribeUserPoolClientCommand({ UserPoolId: stack().staffUserPoolId, ClientId: stack().staffClientId }),
    );
    expect(UserPoolClient?.ClientSecret).toEqual(expect.any(String));
    expect(JSON.stringify(stack())).not.toContain(UserPoolClient!.ClientSecret!);
  });

  it('rule 34: the patients pool has its client with the server-side flow', async () => {
    const { UserPool } = await cognito().send(new DescribeUserPoolCommand({ UserPoolId: stack().patientUserPoolId }));
    expect(UserPool?.Name).toBe('patients');
    const { UserPoolClient } = await cognito().send(
      new DescribeUserPoolClientCommand({ UserPoolId: stack().patientUserPoolId, ClientId: stack().patientClientId }),
    );
    expect(UserPoolClient?.ExplicitAuthFlows).toEqual(expect.arrayContaining(['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']));
    expect(UserPoolClient?.ClientSecret).toBeUndefined();
  });

  it('the staff pool has the groups admin and staff', async () => {
    for (const group of ['admin', 'staff']) {
      const { Group } = await cognito().send(new GetGroupCommand({ UserPoolId: stack().staffUserPoolId, GroupName: group }));
      expect(Group?.GroupName).toBe(group);
    }
  });

  it('the seeded admin signs in and its access token carries cognito:groups [admin]', async () => {
    const { admin, staffUserPoolId, staffClientId, cognitoEndpoint } = stack();
    expect(admin.password.length).toBeGreaterThanOrEqual(16);
    const { accessToken, idToken } = await signInDirect('staff', admin.username, admin.password);
    const access = claims(accessToken);
    expect(access).toMatchObject({
      iss: `${cognitoEndpoint}/${staffUserPoolId}`,
      token_use: 'access',
      client_id: staffClientId,
      username: admin.username,
      'cognito:groups': ['admin'],
    });
    expect(access.exp).toBe((access.iat as number) + 3600); // Cognito's default 60 minutes
    expect(claims(idToken)).toMatchObject({ token_use: 'id', aud: staffClientId, 'cognito:username': admin.username });
  });

  it('the token is signed by a key of the JWKS at <iss>/.well-known/jwks.json', async () => {
    // The API's tokens (through the MFA_SETUP proxy) keep cognito-local's issuer and keys.
    const { accessToken } = await staffSession('admin');
    const jwks = (await (await fetch(`${claims(accessToken).iss as string}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toContain(jwtHeader(accessToken).kid);
  });

  it('the seeded staff user signs in with the group staff', async () => {
    const { staff } = stack();
    const { accessToken } = await signInDirect('staff', staff.username, staff.password);
    expect(claims(accessToken)['cognito:groups']).toEqual(['staff']);
  });
});

describe('the local API gateway', () => {
  const expectProblem = (res: Awaited<ReturnType<typeof api>>, status: number, type: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(res.json).toMatchObject({ type, status, title: expect.any(String) });
    expect(res.text).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  };

  it('routes a known path to its handler module (imported inside the stack process)', async () => {
    const res = await api('/health');
    expect([404, 405, 500]).not.toContain(res.status);
  });

  it('answers an unknown path with 404 problem+json', async () => {
    expectProblem(await api('/no/such/path'), 404, '/problems/not-found');
  });

  it('answers a known path with a wrong method with 405 and Allow', async () => {
    const res = await api('/settings', { method: 'DELETE' });
    expectProblem(res, 405, '/problems/method-not-allowed');
    expect(res.headers.get('allow')).toBe('GET, PUT');
  });

  it('answers a body over 10 MiB with 413 without calling the handler', async () => {
    const res = await api('/settings', { method: 'PUT', body: new Uint8Array(10 * 1024 * 1024 + 1) });
    expectProblem(res, 413, '/problems/payload-too-large');
  });

  it('answers a chunked body that grows over 10 MiB with 413', async () => {
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 11) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${stack().apiUrl}/settings`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { type: string }).type).toBe('/problems/payload-too-large');
  });

  it('still serves the connection after a 413 (keep-alive)', async () => {
    await api('/settings', { method: 'PUT', body: new Uint8Array(10 * 1024 * 1024 + 1) });
    expectProblem(await api('/no/such/path'), 404, '/problems/not-found');
  });
});
