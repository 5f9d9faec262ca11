/**
 * The local MFA_SETUP play (lib/local/cognito-mfa.ts) against a fake cognito-local: AWS's answers
 * for the staff client, untouched answers for everything else, sessions that are bound to their
 * user, used once and dead after 3 minutes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MFA_SETUP_SESSION_MS, startCognitoMfaProxy, type CognitoMfaProxy } from '../../../lib/local/cognito-mfa.ts';

const tokens = { AccessToken: 'access-token', IdToken: 'id', RefreshToken: 'refresh', ExpiresIn: 3600 };
let upstream: Server;
let proxy: CognitoMfaProxy;
let now = Date.now();
const seen: { target: string; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      seen.push({ target, body });
      const answers: Record<string, unknown> = {
        InitiateAuth: { AuthenticationResult: tokens },
        RespondToAuthChallenge: { AuthenticationResult: tokens },
        GetUser: { Username: 'newbie', UserMFASettingList: [] },
        AssociateSoftwareToken: { SecretCode: 'SECRETBASE32' },
        VerifySoftwareToken: body.UserCode === '123456' ? { Status: 'SUCCESS' } : undefined,
        SetUserMFAPreference: {},
      };
      const answer = answers[target];
      res.writeHead(answer ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer ?? { __type: 'CodeMismatchException', message: 'wrong' }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startCognitoMfaProxy({
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    staffClientId: 'staff-client',
    now: () => now,
  });
});
afterAll(async () => {
  await proxy.close();
  await new Promise((resolve) => upstream.close(resolve));
});

async function send(target: string, body: Record<string, unknown>) {
  const res = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${target}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}
const signIn = (clientId = 'staff-client') => send('InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'newbie', PASSWORD: 'pw' } });

describe('the local MFA_SETUP play', () => {
  it('answers MFA_SETUP instead of tokens to a staff user with no TOTP, and leaves other clients alone', async () => {
    const staff = await signIn();
    expect(staff.json).toMatchObject({ ChallengeName: 'MFA_SETUP', Session: expect.any(String) });
    expect(staff.json.AuthenticationResult).toBeUndefined();
    expect((await signIn('patient-client')).json).toEqual({ AuthenticationResult: tokens });
  });

  it('plays AWS enrolment: associate and verify by session, then the held tokens; each session used once', async () => {
    const first = await signIn();
    const associated = await send('AssociateSoftwareToken', { Session: first.json.Session });
    expect(associated.json).toEqual({ SecretCode: 'SECRETBASE32', Session: expect.any(String) });
    expect(seen.at(-1)).toEqual({ target: 'AssociateSoftwareToken', body: { AccessToken: 'access-token' } });
    expect((await send('AssociateSoftwareToken', { Session: first.json.Session })).status).toBe(400);

    const wrong = await send('VerifySoftwareToken', { Session: associated.json.Session, UserCode: '000000' });
    expect(wrong.json.__type).toBe('CodeMismatchException');
    const verified = await send('VerifySoftwareToken', { Session: associated.json.Session, UserCode: '123456' });
    expect(verified.json).toEqual({ Status: 'SUCCESS', Session: expect.any(String) });
    expect(seen.at(-1)).toEqual({ target: 'SetUserMFAPreference', body: { AccessToken: 'access-token', SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } } });

    const done = await send('RespondToAuthChallenge', { ClientId: 'staff-client', ChallengeName: 'MFA_SETUP', Session: verified.json.Session, ChallengeResponses: { USERNAME: 'newbie' } });
    expect(done.json).toEqual({ ChallengeParameters: {}, AuthenticationResult: tokens });
  });

  it('refuses the tokens before the code is verified, and to another USERNAME', async () => {
    const first = await signIn();
    const early = await send('RespondToAuthChallenge', { ClientId: 'staff-client', ChallengeName: 'MFA_SETUP', Session: first.json.Session, ChallengeResponses: { USERNAME: 'newbie' } });
    expect(early).toMatchObject({ status: 400, json: { __type: 'NotAuthorizedException' } });

    const again = await signIn();
    const associated = await send('AssociateSoftwareToken', { Session: again.json.Session });
    const verified = await send('VerifySoftwareToken', { Session: associated.json.Session, UserCode: '123456' });
    const swapped = await send('RespondToAuthChallenge', { ClientId: 'staff-client', ChallengeName: 'MFA_SETUP', Session: verified.json.Session, ChallengeResponses: { USERNAME: 'admin' } });
    expect(swapped).toMatchObject({ status: 400, json: { __type: 'NotAuthorizedException' } });
  });

  it('a session is dead after 3 minutes, as in Cognito', async () => {
    const first = await signIn();
    now += MFA_SETUP_SESSION_MS + 1;
    expect((await send('AssociateSoftwareToken', { Session: first.json.Session })).json.__type).toBe('NotAuthorizedException');
  });
});
