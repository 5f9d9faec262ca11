import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as signIn } from '../../lambdas/handlers/staff-sessions/create.ts';
import { apiEvent, call } from '../support/events.ts';
import { enabledStaffRecord } from '../support/staff-records.ts';

const db = mockClient(DynamoDBDocumentClient);
const idp = mockClient(CognitoIdentityProviderClient);
afterEach(() => {
  db.reset();
  idp.reset();
});

describe('POST /staff/sessions', () => {
  beforeEach(() => db.onAnyCommand().resolves({}));
  const attempt = () => apiEvent({ method: 'POST', body: { username: 'frontdesk', password: 'wrong password here' } });

  it('gives one 401 body for a wrong password and an unknown user, whichever way the pool says it', async () => {
    const bodies = [];
    for (const name of ['NotAuthorizedException', 'InvalidPasswordException', 'UserNotFoundException']) {
      idp.on(InitiateAuthCommand).rejects(Object.assign(new Error(`${name}: details`), { name }));
      const res = await call(signIn, attempt());
      expect(res.status).toBe(401);
      bodies.push(res.json);
      idp.reset();
      db.reset();
      db.onAnyCommand().resolves({});
    }
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it('passes a NEW_PASSWORD_REQUIRED challenge through', async () => {
    idp.on(InitiateAuthCommand).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'sess' });
    const res = await call(signIn, attempt());
    expect(res).toMatchObject({ status: 200, json: { challenge: 'NEW_PASSWORD_REQUIRED', session: 'sess' } });
  });

  it('signs in with the staff client and USER_PASSWORD_AUTH', async () => {
    // The login's staff record (rule 30) must be enabled for its tokens to be handed out.
    const accessToken = `h.${Buffer.from(JSON.stringify({ sub: 'sub-frontdesk' })).toString('base64url')}.s`;
    db.on(GetCommand, { Key: { pk: 'STAFF#sub-frontdesk', sk: 'STAFF' } }).resolves({ Item: enabledStaffRecord('sub-frontdesk') });
    idp.on(InitiateAuthCommand).resolves({ AuthenticationResult: { AccessToken: accessToken, IdToken: 'i', RefreshToken: 'r', ExpiresIn: 3600 } });
    const res = await call(signIn, attempt());
    expect(res.json).toEqual({ accessToken, idToken: 'i', refreshToken: 'r', expiresIn: 3600 });
    expect(idp.commandCalls(InitiateAuthCommand)[0]!.args[0].input).toMatchObject({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'staffclient' });
  });

  it('rule 5: a sixth attempt after five failures gets 429 with Retry-After and never reaches Cognito', async () => {
    db.on(GetCommand).callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk.startsWith('THROTTLE#account#') ? { Item: { failures: 5, lastFailureAt: Date.now() } } : {},
    );
    const res = await call(signIn, attempt());
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.json.type).toBe('/problems/too-many-attempts');
    expect(idp.commandCalls(InitiateAuthCommand)).toHaveLength(0);
  });

  it('counts a refused password against the account and the address, and audits the failure without the password', async () => {
    idp.on(InitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'NotAuthorizedException' }));
    await call(signIn, attempt());
    const updates = db.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key!.pk as string);
    expect(updates.some((k) => k.startsWith('THROTTLE#account#'))).toBe(true);
    expect(updates.some((k) => k.startsWith('THROTTLE#address#'))).toBe(true);
    const audit = db.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    expect(audit).toMatchObject({ action: 'staff.sign-in', outcome: 'failure', actor: 'frontdesk' });
    expect(JSON.stringify(audit)).not.toContain('wrong password here');
  });
});
