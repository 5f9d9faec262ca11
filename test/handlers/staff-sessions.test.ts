import { createHmac } from 'node:crypto';
import {
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { staffKey } from '../../lambdas/adapters/dynamo-store.ts';
import { forgetStaffClientSecretForTests, secretHash } from '../../lambdas/adapters/staff-directory.ts';
import { handler as answer } from '../../lambdas/handlers/staff-sign-in/challenge.ts';
import { handler as signIn } from '../../lambdas/handlers/staff-sign-in/create.ts';
import { apiEvent, call } from '../support/events.ts';
import { memoryDynamo, type MemoryDynamo } from '../support/memory-dynamo.ts';
import { enabledStaffRecord } from '../support/staff-records.ts';

const idp = mockClient(CognitoIdentityProviderClient);
const CLIENT_SECRET = 'the-staff-client-secret';
// Tokens are handed out only for a login with an enabled staff record (rule 30): seeded in the memory table.
const accessToken = `h.${Buffer.from(JSON.stringify({ sub: 'sub-frontdesk' })).toString('base64url')}.s`;
const tokens = { AccessToken: accessToken, IdToken: 'i', RefreshToken: 'r', ExpiresIn: 3600 };

/**
 * The staff record, the sign-in throttle and the audit trail live in the in-memory DynamoDB
 * (test/support/memory-dynamo.ts), which evaluates the throttle adapter's real condition and
 * update expressions.
 */
let db: MemoryDynamo;
const audit = () => [...db.table('audit-test').values()];
function freshTable() {
  db = memoryDynamo();
  db.table('records-test').set('STAFF#sub-frontdesk|STAFF', { ...enabledStaffRecord('sub-frontdesk'), ...staffKey('sub-frontdesk') });
}
beforeEach(() => {
  forgetStaffClientSecretForTests();
  freshTable();
  vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(((command: { input: unknown }) => db.send(command)) as never);
  idp.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { ClientId: 'staffclient', ClientSecret: CLIENT_SECRET } });
});
afterEach(() => {
  vi.restoreAllMocks();
  idp.reset();
  vi.useRealTimers();
});

const signInEvent = (username = 'frontdesk', password = 'the right password here') =>
  apiEvent({ method: 'POST', body: { username, password }, headers: { 'User-Agent': 'test-browser/1.0', Cookie: 'c=secret-cookie' } });
const answerEvent = (body: Record<string, unknown>) => apiEvent({ method: 'POST', body });

/** A sign-in that the pool answers with `challenge` for `username`: our sealed session. */
async function challenged(challenge: string, username = 'frontdesk', cognitoSession = `cognito-session-${challenge}`) {
  idp.on(InitiateAuthCommand).resolves({ ChallengeName: challenge as never, Session: cognitoSession, ChallengeParameters: { USER_ID_FOR_SRP: username } });
  const res = await call(signIn, signInEvent(username));
  expect(res.status).toBe(200);
  expect(res.json.challenge).toBe(challenge);
  return res.json.session as string;
}

const code = (n: number) => String(100000 + n);

describe('POST /staff/sessions', () => {
  it('gives one 401 body for a wrong password and an unknown user, whichever way the pool says it', async () => {
    const bodies = [];
    for (const name of ['NotAuthorizedException', 'InvalidPasswordException', 'UserNotFoundException']) {
      idp.on(InitiateAuthCommand).rejects(Object.assign(new Error(`${name}: details`), { name }));
      const res = await call(signIn, signInEvent('frontdesk', 'wrong password here'));
      expect(res.status).toBe(401);
      bodies.push(res.json);
      freshTable();
    }
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it('rule 34: signs in with the staff client, USER_PASSWORD_AUTH and SECRET_HASH from the secret DescribeUserPoolClient gives (read once)', async () => {
    idp.on(InitiateAuthCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 's', ChallengeParameters: { USER_ID_FOR_SRP: 'frontdesk' } });
    await call(signIn, signInEvent());
    await call(signIn, signInEvent());
    const input = idp.commandCalls(InitiateAuthCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'staffclient' });
    expect(input.AuthParameters?.SECRET_HASH).toBe(secretHash(CLIENT_SECRET, 'frontdesk', 'staffclient'));
    expect(secretHash('k', 'u', 'c')).toBe(createHmac('sha256', 'k').update('uc').digest('base64'));
    expect(idp.commandCalls(DescribeUserPoolClientCommand)).toHaveLength(1);
  });

  it('issue 13 item 13: passes the caller address to threat protection as UserContextData', async () => {
    idp.on(InitiateAuthCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 's' });
    await call(signIn, signInEvent());
    expect(idp.commandCalls(InitiateAuthCommand)[0]!.args[0].input.UserContextData).toEqual({ IpAddress: '203.0.113.9' });
  });

  it('answers the challenge with a sealed session that does not show the pool session or the username', async () => {
    const session = await challenged('SOFTWARE_TOKEN_MFA', 'frontdesk', 'cognito-session-visible');
    expect(session).not.toContain('cognito-session-visible');
    expect(Buffer.from(session, 'base64url').toString('latin1')).not.toContain('frontdesk');
  });

  it('rule 5: a sixth attempt after five failures gets 429 with Retry-After and never reaches Cognito', async () => {
    idp.on(InitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'NotAuthorizedException' }));
    for (let i = 0; i < 5; i++) expect((await call(signIn, signInEvent('frontdesk', `wrong password ${i}`))).status).toBe(401);
    const res = await call(signIn, signInEvent('frontdesk', 'wrong password 6'));
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(idp.commandCalls(InitiateAuthCommand)).toHaveLength(5);
  });

  it('rule 30: a failed sign-in keeps a keyed hash of what was typed as the username, never the text', async () => {
    idp.on(InitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'NotAuthorizedException' }));
    const typed = 'My Real Password 2026!';
    await call(signIn, signInEvent(typed, 'whatever was typed'));
    await call(signIn, signInEvent(typed, 'whatever was typed again'));
    const failures = audit().filter((a) => a.action === 'staff.sign-in');
    expect(failures).toHaveLength(2);
    const text = JSON.stringify(failures).toLowerCase();
    expect(text).not.toContain(typed.toLowerCase());
    expect(text).not.toContain('my real password');
    expect(failures[0]).toMatchObject({ outcome: 'failure' });
    expect(String(failures[0]!.actor)).toMatch(/^typed:[A-Za-z0-9_-]{22}$/);
    // The same typed name gives the same hash (repeated attempts stay visible), under the secret's key.
    expect(failures[1]!.actor).toBe(failures[0]!.actor);
  });

  it('names the user on a successful sign-in', async () => {
    await challenged('SOFTWARE_TOKEN_MFA');
    expect(audit().find((a) => a.action === 'staff.sign-in')).toMatchObject({ actor: 'frontdesk', outcome: 'success' });
  });
});

describe('POST /staff/sessions/challenge', () => {
  it('SOFTWARE_TOKEN_MFA: the code goes to the pool for the user the password proved, with SECRET_HASH; tokens', async () => {
    const session = await challenged('SOFTWARE_TOKEN_MFA');
    idp.on(RespondToAuthChallengeCommand).resolves({ AuthenticationResult: tokens });
    const res = await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(1) }));
    expect(res).toMatchObject({ status: 200, json: { accessToken, idToken: 'i', refreshToken: 'r', expiresIn: 3600 } });
    expect(idp.commandCalls(RespondToAuthChallengeCommand)[0]!.args[0].input).toEqual({
      ClientId: 'staffclient',
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'cognito-session-SOFTWARE_TOKEN_MFA',
      ChallengeResponses: { USERNAME: 'frontdesk', SECRET_HASH: secretHash(CLIENT_SECRET, 'frontdesk', 'staffclient'), SOFTWARE_TOKEN_MFA_CODE: code(1) },
      UserContextData: { IpAddress: '203.0.113.9' },
    });
  });

  it('NEW_PASSWORD_REQUIRED → MFA_SETUP → secretCode and otpauthUri → code → tokens', async () => {
    const first = await challenged('NEW_PASSWORD_REQUIRED', 'new.person');
    idp.on(RespondToAuthChallengeCommand, { ChallengeName: 'NEW_PASSWORD_REQUIRED' }).resolves({ ChallengeName: 'MFA_SETUP', Session: 'cognito-mfa-setup' });
    const changed = await call(answer, answerEvent({ session: first, challenge: 'NEW_PASSWORD_REQUIRED', newPassword: 'a long new staff passphrase' }));
    expect(changed).toMatchObject({ status: 200, json: { challenge: 'MFA_SETUP' } });
    expect(idp.commandCalls(RespondToAuthChallengeCommand)[0]!.args[0].input.ChallengeResponses).toMatchObject({ USERNAME: 'new.person', NEW_PASSWORD: 'a long new staff passphrase' });

    idp.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP', Session: 'cognito-after-associate' });
    const started = await call(answer, answerEvent({ session: changed.json.session, challenge: 'MFA_SETUP' }));
    expect(started.json).toMatchObject({
      challenge: 'MFA_SETUP',
      secretCode: 'JBSWY3DPEHPK3PXP',
      otpauthUri: 'otpauth://totp/Our%20practice:new.person?secret=JBSWY3DPEHPK3PXP&issuer=Our%20practice',
    });
    expect(idp.commandCalls(AssociateSoftwareTokenCommand)[0]!.args[0].input).toEqual({ Session: 'cognito-mfa-setup' });

    idp.on(VerifySoftwareTokenCommand).resolves({ Status: 'SUCCESS', Session: 'cognito-after-verify' });
    idp.on(RespondToAuthChallengeCommand, { ChallengeName: 'MFA_SETUP' }).resolves({ AuthenticationResult: tokens });
    const done = await call(answer, answerEvent({ session: started.json.session, challenge: 'MFA_SETUP', code: code(2) }));
    expect(done).toMatchObject({ status: 200, json: { accessToken } });
    expect(idp.commandCalls(VerifySoftwareTokenCommand)[0]!.args[0].input).toEqual({ Session: 'cognito-after-associate', UserCode: code(2) });
    const last = idp.commandCalls(RespondToAuthChallengeCommand).at(-1)!.args[0].input;
    expect(last).toMatchObject({ ChallengeName: 'MFA_SETUP', Session: 'cognito-after-verify', ChallengeResponses: { USERNAME: 'new.person' } });
  });

  it('rule 27: a new password that contains the username is refused only after the session proved the temporary password', async () => {
    const first = await challenged('NEW_PASSWORD_REQUIRED', 'new.person');
    const res = await call(answer, answerEvent({ session: first, challenge: 'NEW_PASSWORD_REQUIRED', newPassword: 'my name is new.person ok' }));
    expect(res.status).toBe(400);
    expect(idp.commandCalls(RespondToAuthChallengeCommand)).toHaveLength(0);
  });

  it('a wrong code, a Cognito-expired session and a forged session all get one 401 body', async () => {
    const bodies = [];
    const session = await challenged('SOFTWARE_TOKEN_MFA');
    for (const name of ['CodeMismatchException', 'NotAuthorizedException', 'ExpiredCodeException']) {
      idp.on(RespondToAuthChallengeCommand).rejects(Object.assign(new Error(`${name}: detail`), { name }));
      const res = await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(bodies.length + 10) }));
      expect(res.status).toBe(401);
      bodies.push(res.json);
    }
    const forged = await call(answer, answerEvent({ session: Buffer.from('{"u":"admin"}').toString('base64url'), challenge: 'SOFTWARE_TOKEN_MFA', code: code(20) }));
    expect(forged.status).toBe(401);
    bodies.push(forged.json);
    for (const body of bodies) expect(body).toEqual(bodies[0]);
  });

  it('a tampered session (one byte changed) never reaches the pool', async () => {
    const session = await challenged('SOFTWARE_TOKEN_MFA');
    const raw = Buffer.from(session, 'base64url');
    raw[raw.length - 1]! ^= 1;
    const res = await call(answer, answerEvent({ session: raw.toString('base64url'), challenge: 'SOFTWARE_TOKEN_MFA', code: code(1) }));
    expect(res.status).toBe(401);
    expect(idp.commandCalls(RespondToAuthChallengeCommand)).toHaveLength(0);
  });

  it('a session older than Cognito ever keeps one is dead without asking the pool', async () => {
    const session = await challenged('SOFTWARE_TOKEN_MFA');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 16 * 60_000);
    const res = await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(1) }));
    expect(res.status).toBe(401);
    expect(idp.commandCalls(RespondToAuthChallengeCommand)).toHaveLength(0);
  });

  it('rule 30: the username cannot be swapped: the body may not name one, and the pool is asked for the user the session holds', async () => {
    const session = await challenged('SOFTWARE_TOKEN_MFA', 'frontdesk');
    const named = await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(1), username: 'admin' }));
    expect(named.status).toBe(400);
    idp.on(RespondToAuthChallengeCommand).resolves({ AuthenticationResult: tokens });
    await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(1) }));
    expect(idp.commandCalls(RespondToAuthChallengeCommand)[0]!.args[0].input.ChallengeResponses?.USERNAME).toBe('frontdesk');
  });

  it("a session issued for one step does not answer another (no skipping MFA_SETUP's verification, no TOTP with a new-password session)", async () => {
    const setup = await challenged('MFA_SETUP');
    idp.on(RespondToAuthChallengeCommand).resolves({ AuthenticationResult: tokens });
    const skipped = await call(answer, answerEvent({ session: setup, challenge: 'MFA_SETUP', code: code(1) }));
    expect(skipped.status).toBe(401);
    const other = await call(answer, answerEvent({ session: setup, challenge: 'SOFTWARE_TOKEN_MFA', code: code(2) }));
    expect(other.status).toBe(401);
    expect(idp.commandCalls(RespondToAuthChallengeCommand)).toHaveLength(0);
    expect(idp.commandCalls(VerifySoftwareTokenCommand)).toHaveLength(0);
  });

  it('rule 30: a code that already signed the user in is refused without asking the pool (Cognito refuses replays too)', async () => {
    idp.on(RespondToAuthChallengeCommand).resolves({ AuthenticationResult: tokens });
    const first = await challenged('SOFTWARE_TOKEN_MFA');
    expect((await call(answer, answerEvent({ session: first, challenge: 'SOFTWARE_TOKEN_MFA', code: code(7) }))).status).toBe(200);
    const second = await challenged('SOFTWARE_TOKEN_MFA');
    const replay = await call(answer, answerEvent({ session: second, challenge: 'SOFTWARE_TOKEN_MFA', code: code(7) }));
    expect(replay.status).toBe(401);
    expect(idp.commandCalls(RespondToAuthChallengeCommand)).toHaveLength(1);
    // Another user's same code is theirs to use.
    const other = await challenged('SOFTWARE_TOKEN_MFA', 'someone.else');
    expect((await call(answer, answerEvent({ session: other, challenge: 'SOFTWARE_TOKEN_MFA', code: code(7) }))).status).toBe(200);
  });

  it('rule 30: six wrong codes: the sixth is 429 and never reaches the pool, though the password was right every time', async () => {
    idp.on(RespondToAuthChallengeCommand).rejects(Object.assign(new Error('x'), { name: 'CodeMismatchException' }));
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const session = await challenged('SOFTWARE_TOKEN_MFA');
      statuses.push((await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(30 + i) }))).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(idp.commandCalls(RespondToAuthChallengeCommand)).toHaveLength(5);
  });

  it('rule 30: wrong enrolment codes count the same way', async () => {
    idp.on(VerifySoftwareTokenCommand).rejects(Object.assign(new Error('x'), { name: 'EnableSoftwareTokenMFAException' }));
    idp.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP', Session: 'after-associate' });
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const setup = await challenged('MFA_SETUP');
      const started = await call(answer, answerEvent({ session: setup, challenge: 'MFA_SETUP' }));
      statuses.push((await call(answer, answerEvent({ session: started.json.session, challenge: 'MFA_SETUP', code: code(40 + i) }))).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('audits each answer under the user the session holds, success and failure', async () => {
    const session = await challenged('SOFTWARE_TOKEN_MFA');
    idp.on(RespondToAuthChallengeCommand).rejectsOnce(Object.assign(new Error('x'), { name: 'CodeMismatchException' })).resolves({ AuthenticationResult: tokens });
    await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(50) }));
    await call(answer, answerEvent({ session, challenge: 'SOFTWARE_TOKEN_MFA', code: code(51) }));
    const answers = audit().filter((a) => a.action === 'staff.sign-in-challenge');
    expect(answers.map((a) => [a.actor, a.outcome])).toEqual([
      ['frontdesk', 'failure'],
      ['frontdesk', 'success'],
    ]);
    expect(JSON.stringify(answers)).not.toContain(code(50));
  });
});
