import { CognitoIdentityProviderClient, AdminInitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as signIn } from '../../lambdas/handlers/sessions/create.ts';
import { apiEvent, call } from '../support/events.ts';

const db = mockClient(DynamoDBDocumentClient);
const idp = mockClient(CognitoIdentityProviderClient);
beforeEach(() => {
  db.onAnyCommand().resolves({});
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
