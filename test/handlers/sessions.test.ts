import { CognitoIdentityProviderClient, AdminInitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as signIn } from '../../lambdas/handlers/patient-sign-in/create.ts';
import { handler as accountGet } from '../../lambdas/handlers/account/get.ts';
import { apiEvent, call } from '../support/events.ts';
import { otherKey, serveJwks, staffToken } from '../support/tokens.ts';
import { batchGetThroughGets } from '../support/batch-get.ts';

const db = mockClient(DynamoDBDocumentClient);
const idp = mockClient(CognitoIdentityProviderClient);
beforeEach(() => {
  db.onAnyCommand().resolves({});
  batchGetThroughGets(db);
  idp.onAnyCommand().resolves({});
});
afterEach(() => {
  db.reset();
  idp.reset();
});

const attempt = (username = 'pat.smith') => apiEvent({ method: 'POST', body: { username, password: 'some password given here' } });

describe('POST /sessions', () => {
  it('rule 5: once the account must wait, answers 429 with Retry-After and never calls Cognito', async () => {
    db.on(GetCommand).callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk.startsWith('THROTTLE#account#') ? { Item: { failures: 7, lastFailureAt: Date.now() } } : {},
    );
    const res = await call(signIn, attempt());
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(110);
    expect(idp.commandCalls(AdminInitiateAuthCommand)).toHaveLength(0);
  });

  it('rule 13: an unknown username still asks the pool (same work, same answer) and gets the one 401 body', async () => {
    idp.on(AdminInitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'UserNotFoundException' }));
    const res = await call(signIn, attempt('nobody'));
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      type: '/problems/invalid-credentials',
      title: 'Unauthorized',
      status: 401,
      detail: 'The username or password is not right.',
      resetAvailable: true,
    });
    expect(idp.commandCalls(AdminInitiateAuthCommand)).toHaveLength(1);
  });

  it('refuses a disabled record with 403 after the password is right, and revokes the tokens the pool issued', async () => {
    db.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
      if (input.Key.pk === 'USERNAME#pat.smith') return { Item: { accountId: 'acc-1', patientId: 'P-1' } };
      if (input.Key.pk === 'PATIENT#P-1') {
        return { Item: { patientId: 'P-1', accountId: 'acc-1', username: 'pat.smith', accessEnabled: false, cases: [], registration: 'NormalRegistration', invite: { status: 'Accepted' }, createdAt: 'x', updatedAt: 'x', version: 3 } };
      }
      return {};
    });
    idp.on(AdminInitiateAuthCommand).resolves({ AuthenticationResult: { AccessToken: 'a.b.c', IdToken: 'i', RefreshToken: 'r', ExpiresIn: 3600 } });
    const res = await call(signIn, attempt());
    expect(res.status).toBe(403);
    expect(res.json.type).toBe('/problems/access-disabled');
    expect(idp.commandCalls(AdminInitiateAuthCommand)[0]!.args[0].input.AuthParameters).toMatchObject({ USERNAME: 'acc-1' });
    expect(JSON.stringify(idp.calls().map((c) => c.args[0].constructor.name))).toContain('RevokeTokenCommand');
  });

  it('rule 34 / issue 13 item 13: signs in server-side (AdminInitiateAuth) with the caller context, and no secret header in it', async () => {
    db.on(GetCommand).callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk === 'USERNAME#pat.smith' ? { Item: { accountId: 'acc-1', patientId: 'P-1' } } : {},
    );
    idp.on(AdminInitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'NotAuthorizedException' }));
    const event = apiEvent({
      method: 'POST',
      body: { username: 'pat.smith', password: 'some password given here' },
      headers: { 'User-Agent': 'Mozilla/5.0 test', Cookie: 'session=cookie-secret', Authorization: 'Bearer header-secret', Host: 'portal.example.test' },
    });
    await call(signIn, event);
    const input = idp.commandCalls(AdminInitiateAuthCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', UserPoolId: 'us-east-1_patients', ClientId: 'patientclient' });
    expect(input.ContextData).toMatchObject({ IpAddress: '203.0.113.9', ServerName: 'portal.example.test' });
    expect(input.ContextData?.HttpHeaders).toContainEqual({ headerName: 'user-agent', headerValue: 'Mozilla/5.0 test' });
    expect(JSON.stringify(input.ContextData)).not.toMatch(/cookie-secret|header-secret|authorization|cookie/i);
  });
});

// ------------------------------------------------------------------ patient access tokens (rule 17)

describe('patient access tokens: the revocation rule (rule 17)', () => {
  const accountId = 'acc-1';
  const patientToken = (claims: Record<string, unknown>, opts: { signWith?: typeof otherKey } = {}) =>
    staffToken({ pool: process.env.PATIENT_POOL_ID, clientId: process.env.PATIENT_CLIENT_ID, username: accountId, groups: [], claims, ...opts });
  const patientRecord = (over: Record<string, unknown> = {}) => ({
    pk: 'PATIENT#P-1', sk: 'RECORD', patientId: 'P-1', accountId, username: 'pat.smith', accessEnabled: true, cases: ['C-1'],
    registration: 'NormalRegistration', invite: { status: 'Used' }, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 3,
    ...over,
  });
  const tables = (record: Record<string, unknown>) =>
    db.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
      if (input.Key.pk === `ACCOUNT#${accountId}`) return { Item: { pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT', accountId, patientId: 'P-1' } };
      if (input.Key.pk === 'PATIENT#P-1') return { Item: record };
      return {};
    });
  const account = (token: string) => call(accountGet, apiEvent({ token }));
  beforeEach(() => serveJwks());

  it('rule 17: a token minted under the record\'s generation opens the patient routes', async () => {
    tables(patientRecord({ linkGeneration: 4 }));
    const res = await account(patientToken({ portal_generation: 4 }));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ accountId, username: 'pat.smith' });
  });

  it('rule 17: a token from before a bump is refused, even minted in the same second as the revoke (no whole-second window)', async () => {
    const second = Math.floor(Date.now() / 1000);
    // Minted in this very second, one generation ago: the revoke (or access off, email or credential change) came after it.
    tables(patientRecord({ linkGeneration: 5, revokedAt: new Date(second * 1000).toISOString() }));
    const res = await account(staffToken({ pool: process.env.PATIENT_POOL_ID, clientId: process.env.PATIENT_CLIENT_ID, username: accountId, groups: [], issuedAt: second, claims: { portal_generation: 4 } }));
    expect(res.status).toBe(401);
    // And the token minted after it, in the same second, works.
    const after = await account(staffToken({ pool: process.env.PATIENT_POOL_ID, clientId: process.env.PATIENT_CLIENT_ID, username: accountId, groups: [], issuedAt: second, claims: { portal_generation: 5 } }));
    expect(after.status).toBe(200);
  });

  it('rule 17: access off and on again: the token from before stays refused (the generation never comes back)', async () => {
    // Off bumped 0 → 1; on again keeps 1.
    tables(patientRecord({ linkGeneration: 1 }));
    expect((await account(patientToken({ portal_generation: 0 }))).status).toBe(401);
    expect((await account(patientToken({ portal_generation: 1 }))).status).toBe(200);
  });

  it.each([
    ['no generation (refreshed at Cognito, or minted around our sign-in)', {}],
    ['a later generation than the record has', { portal_generation: 8 }],
    ['the generation as a string', { portal_generation: '7' }],
    ['a fractional generation', { portal_generation: 7.5 }],
    ['a null generation', { portal_generation: null }],
  ])('rule 17: a token with %s is refused', async (_name, claims) => {
    tables(patientRecord({ linkGeneration: 7 }));
    expect((await account(patientToken(claims))).status).toBe(401);
  });

  it('rule 17: a token with the right generation but not signed by the pool is refused', async () => {
    tables(patientRecord({ linkGeneration: 7 }));
    expect((await account(patientToken({ portal_generation: 7 }, { signWith: otherKey }))).status).toBe(401);
  });

  it('rule 17: the right generation does not outweigh access off or a forced change', async () => {
    tables(patientRecord({ linkGeneration: 7, accessEnabled: false }));
    expect((await account(patientToken({ portal_generation: 7 }))).status).toBe(401);
    tables(patientRecord({ linkGeneration: 7, login: { mustChangePassword: true } }));
    expect((await account(patientToken({ portal_generation: 7 }))).status).toBe(401);
  });
});
