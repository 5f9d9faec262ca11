/**
 * Patient sign-in over HTTP on the local stack (issue 8): Register Patient → temporary password →
 * NEW_PASSWORD_REQUIRED → tokens; expiry of temporary passwords on the test clock; the one 401
 * body; disabled records and revoke refusing tokens at once; credential changes ending other
 * sessions.
 */
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, setClockOffset, stack } from './support/stack.ts';
import { staffSession } from './support/staff-session.ts';
import { checkLink, invited, register } from './support/patients.ts';

let admin: string;
let staff: string;
const good = 'lantern orchard pebble violin';

beforeAll(async () => {
  admin = (await staffSession('admin')).accessToken;
  staff = (await staffSession('staff')).accessToken;
  // Other files change staff permissions on the shared stack: start from known ones.
  await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true } });
});
afterEach(() => setClockOffset(0));

async function enrol(patientId: string, body: Record<string, unknown> = {}) {
  expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { cases: ['C-1'], ...body } })).status).toBe(200);
  const reg = await api(`/patients/${patientId}/portal/registration`, { method: 'POST', token: staff });
  expect(reg.status).toBe(201);
  return reg.json as { username: string; temporaryPassword: string; expiresAt: string; record: { statusMessage: string } };
}

const signIn = (username: string, password: string) => api('/sessions', { method: 'POST', body: { username, password } });

async function registered(patientId: string, body: Record<string, unknown> = {}) {
  const reg = await enrol(patientId, body);
  const challenge = await signIn(reg.username, reg.temporaryPassword);
  const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: good } });
  expect(done.status).toBe(200);
  return { username: reg.username, tokens: done.json };
}

describe('Register Patient and the first sign-in', () => {
  it('forced registration → challenge → new password → tokens; the temporary password stops working', async () => {
    const reg = await enrol('S-1', { email: 'first.patient@example.test', masterCase: 'MC-S1' });
    expect(reg.temporaryPassword).toMatch(/^[A-HJ-KM-NP-Z2-9]{4}(-[A-HJ-KM-NP-Z2-9]{4}){3}$/);
    expect(reg.username).toBe('mc-s1');
    expect(reg.record.statusMessage).toBe('Enabled / Forced Registration / No Invite');

    const challenge = await signIn(reg.username, reg.temporaryPassword);
    expect(challenge.status).toBe(200);
    expect(challenge.json).toEqual({ challenge: 'NEW_PASSWORD_REQUIRED', session: expect.any(String) });

    const weak = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: 'first.patient is me here' } });
    expect(weak.status).toBe(400);
    expect(weak.json.errors).toEqual([{ path: 'body.newPassword', message: 'must not contain your email address' }]);

    const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: good } });
    expect(done.status).toBe(200);
    expect(done.json).toEqual({ accessToken: expect.any(String), idToken: expect.any(String), refreshToken: expect.any(String), expiresIn: expect.any(Number) });

    const again = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: `${good} again` } });
    expect(again.status).toBe(401);

    const old = await signIn(reg.username, reg.temporaryPassword);
    expect(old.status).toBe(401);
    expect(old.json.resetAvailable).toBe(true);

    const account = await api('/account', { token: done.json.accessToken });
    expect(account.status).toBe(200);
    expect(account.json).toEqual({
      accountId: expect.any(String),
      username: 'mc-s1',
      email: 'first.patient@example.test',
      cases: ['C-1'],
      records: [{ patientId: 'S-1', role: 'self', scope: 'full', cases: ['C-1'] }],
    });
    expect((await signIn('MC-S1', good)).status).toBe(200);
  });

  it('the new-password step can choose a new username', async () => {
    const reg = await enrol('S-2');
    const challenge = await signIn(reg.username, reg.temporaryPassword);
    const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: good, newUsername: 'second.patient' } });
    expect(done.status).toBe(200);
    expect((await signIn('second.patient', good)).status).toBe(200);
    expect((await signIn(reg.username, good)).status).toBe(401);
  });

  it('rule 12: an expired temporary password gets its own problem that sends the patient to the practice', async () => {
    const reg = await enrol('S-3');
    const hours = (await api('/settings', { token: staff })).json.temporaryPasswordHours as number;
    await setClockOffset((hours + 1) * 3_600_000);
    const res = await signIn(reg.username, reg.temporaryPassword);
    expect(res.status).toBe(401);
    expect(res.json.type).toMatch(/temporary-password-expired$/);
    expect(res.json.detail).toMatch(/ask the practice/i);
  });

  it('Register Patient again overwrites the password and ends the sessions', async () => {
    const { username, tokens } = await registered('S-4');
    const reg = await api('/patients/S-4/portal/registration', { method: 'POST', token: staff });
    expect(reg.json.username).toBe(username);
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(401);
    expect((await signIn(username, good)).status).toBe(401);
    expect((await signIn(username, reg.json.temporaryPassword)).json.challenge).toBe('NEW_PASSWORD_REQUIRED');
  });

  it('rule 29: Register Patient ends a pending invitation: its link and PIN are dead and the record no longer reads "Invite"', async () => {
    const p = await invited(staff, 'RPI');
    const reg = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: staff });
    expect(reg.status).toBe(201);
    expect(reg.json.record.invite.status).toBe('Cancelled');
    expect(reg.json.record.statusMessage).toBe('Enabled / Forced Registration / No Invite');
    expect((await checkLink(p.token)).status).toBe(410);
    expect((await register({ token: p.token, pin: p.pin, username: `rpi${Date.now()}`, password: 'a perfectly long passphrase here' })).status).toBe(410);
  });

  it('needs the invite permission (the admin role always has it)', async () => {
    await api('/patients/S-5/portal', { method: 'PUT', token: staff, body: {} });
    await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: admin, body: { canInvite: false } });
    try {
      expect((await api('/patients/S-5/portal/registration', { method: 'POST', token: staff })).status).toBe(403);
    } finally {
      await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true } });
    }
    await api(`/staff/${stack().admin.username}/permissions`, { method: 'PUT', token: admin, body: { canInvite: false } });
    try {
      expect((await api('/patients/S-5/portal/registration', { method: 'POST', token: admin })).status).toBe(201);
    } finally {
      await api(`/staff/${stack().admin.username}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true } });
    }
    expect((await api('/patients/S-none/portal/registration', { method: 'POST', token: staff })).status).toBe(404);
  });
});

describe('POST /sessions refusals', () => {
  it('rule 13: gives one 401 body, with the reset offer, for a wrong password and an unknown username', async () => {
    const { username } = await registered('S-10');
    const wrong = await signIn(username, 'not the right password at all');
    const unknown = await signIn('nobody-by-this-name', 'not the right password at all');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json).toEqual(unknown.json);
    expect(wrong.json.resetAvailable).toBe(true);
  });

  it('rule 5: after 5 failures the right password gets 429 with Retry-After (the pool is not asked)', async () => {
    const { username } = await registered('S-11');
    for (let i = 0; i < 5; i++) expect((await signIn(username, `wrong guess number ${i}`)).status).toBe(401);
    const blocked = await signIn(username, good);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses a disabled record with 403 (cognito-local would let it in) and its tokens with 401; re-enabling restores both', async () => {
    const { username, tokens } = await registered('S-12');
    await api('/patients/S-12/portal', { method: 'PUT', token: staff, body: { accessEnabled: false } });
    expect((await signIn(username, good)).status).toBe(403);
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(401);
    await api('/patients/S-12/portal', { method: 'PUT', token: staff, body: { accessEnabled: true } });
    expect((await signIn(username, good)).status).toBe(200);
  });
});

describe('the new-password step is bound to the temporary password it was issued for (issue 13 item 7)', () => {
  const newPassword = (session: string, password = good) => api('/sessions/new-password', { method: 'POST', body: { session, newPassword: password } });
  const other = 'quartz meadow harbor kettle';

  it('a second session of the same temporary password dies once the patient finished with the first', async () => {
    const reg = await enrol('S-71');
    const [first, second] = [await signIn(reg.username, reg.temporaryPassword), await signIn(reg.username, reg.temporaryPassword)];
    expect((await newPassword(first.json.session)).status).toBe(200);
    const late = await newPassword(second.json.session, other);
    expect(late.status).toBe(401);
    expect(late.json.type).toBe('/problems/session-expired');
    // The password the patient chose stands.
    expect((await signIn(reg.username, good)).status).toBe(200);
    expect((await signIn(reg.username, other)).status).toBe(401);
  });

  it('Register Patient again kills the session of the earlier temporary password; the new one gets its own', async () => {
    const reg = await enrol('S-72');
    const old = await signIn(reg.username, reg.temporaryPassword);
    const again = await api('/patients/S-72/portal/registration', { method: 'POST', token: staff });
    expect(again.status).toBe(201);
    const late = await newPassword(old.json.session, other);
    expect(late.status).toBe(401);
    expect(late.json.type).toBe('/problems/session-expired');
    const fresh = await signIn(again.json.username, again.json.temporaryPassword);
    expect((await newPassword(fresh.json.session)).status).toBe(200);
  });

  it('revoke and re-enable kill the session issued before them', async () => {
    const reg = await enrol('S-73');
    const old = await signIn(reg.username, reg.temporaryPassword);
    expect((await api('/patients/S-73/portal/revoke', { method: 'POST', token: staff })).status).toBe(200);
    expect((await api('/patients/S-73/portal', { method: 'PUT', token: staff, body: { accessEnabled: true } })).status).toBe(200);
    const late = await newPassword(old.json.session);
    expect(late.status).toBe(401);
    expect(late.json.type).toBe('/problems/session-expired');
  });

  it('the session dies with its temporary password (test clock past temporaryPasswordHours), even inside its 10 minutes', async () => {
    const reg = await enrol('S-74');
    await setClockOffset(Date.parse(reg.expiresAt) - Date.now() - 60_000);
    const session = await signIn(reg.username, reg.temporaryPassword);
    expect(session.status).toBe(200);
    await setClockOffset(Date.parse(reg.expiresAt) - Date.now() + 1_000);
    expect((await newPassword(session.json.session)).status).toBe(401);
  });
});

describe('revoke and credential changes', () => {
  it('rule 17: revoke refuses a token issued before it at once; re-enabling lets the same credentials in again', async () => {
    const { username, tokens } = await registered('S-20');
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(200);
    const revoked = await api('/patients/S-20/portal/revoke', { method: 'POST', token: staff });
    expect(revoked.status).toBe(200);
    expect(revoked.json.statusMessage).toBe('Disabled / Forced Registration / No Invite');
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(401);
    expect((await signIn(username, good)).status).toBe(403);
    await api('/patients/S-20/portal', { method: 'PUT', token: staff, body: { accessEnabled: true } });
    const back = await signIn(username, good);
    expect(back.status).toBe(200);
    expect((await api('/account', { token: back.json.accessToken })).status).toBe(200);
  });

  it('rule 15: a credential change ends every other session and answers fresh tokens', async () => {
    const { username, tokens: other } = await registered('S-21');
    // No wait for a second boundary: the generation, not the clock, ends the other session.
    const mine = (await signIn(username, good)).json;
    const newPassword = 'quartz meadow harbor kettle';
    const changed = await api('/account/credentials', { method: 'PUT', token: mine.accessToken, body: { currentPassword: good, newPassword, newUsername: 'renamed.patient' } });
    expect(changed.status).toBe(200);
    expect((await api('/account', { token: other.accessToken })).status).toBe(401);
    expect((await api('/account', { token: changed.json.accessToken })).json.username).toBe('renamed.patient');
    expect((await signIn('renamed.patient', good)).status).toBe(401);
    expect((await signIn('renamed.patient', newPassword)).status).toBe(200);
    expect((await signIn(username, newPassword)).status).toBe(401);
  });

  it('rule 3: a credential change needs the current password and follows the password rules', async () => {
    const { tokens } = await registered('S-22');
    const wrong = await api('/account/credentials', { method: 'PUT', token: tokens.accessToken, body: { currentPassword: 'not it at all, sorry', newPassword: 'quartz meadow harbor kettle' } });
    expect(wrong.status).toBe(401);
    const weak = await api('/account/credentials', { method: 'PUT', token: tokens.accessToken, body: { currentPassword: good, newPassword: 'short' } });
    expect(weak.status).toBe(400);
    expect(weak.json.errors[0]).toEqual({ path: 'body.newPassword', message: 'must be at least 15 characters' });
  });

  it('rule 17: a token from just before a revoke is refused once access is on again, in the same second; the one after works', async () => {
    const { username, tokens } = await registered('S-23');
    const before = (await signIn(username, good)).json;
    expect((await api('/account', { token: before.accessToken })).status).toBe(200);
    expect((await api('/patients/S-23/portal/revoke', { method: 'POST', token: staff })).status).toBe(200);
    expect((await api('/patients/S-23/portal', { method: 'PUT', token: staff, body: { accessEnabled: true } })).status).toBe(200);
    // Whatever second each fell in: every token minted before the revoke stays dead.
    expect((await api('/account', { token: before.accessToken })).status).toBe(401);
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(401);
    const after = (await signIn(username, good)).json;
    expect((await api('/account', { token: after.accessToken })).status).toBe(200);
  });

  it('rule 17: access off and on again ends the tokens from before; a sign-in after works', async () => {
    const { username, tokens } = await registered('S-24');
    expect((await api('/patients/S-24/portal', { method: 'PUT', token: staff, body: { accessEnabled: false } })).status).toBe(200);
    expect((await api('/patients/S-24/portal', { method: 'PUT', token: staff, body: { accessEnabled: true } })).status).toBe(200);
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(401);
    expect((await api('/account', { token: (await signIn(username, good)).json.accessToken })).status).toBe(200);
  });

  it('rule 17: an email change ends the patient\'s sessions; a staff edit of the comment does not', async () => {
    const { username, tokens } = await registered('S-25', { email: 's25@example.test' });
    expect((await api('/patients/S-25/portal', { method: 'PUT', token: staff, body: { comment: 'called' } })).status).toBe(200);
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(200);
    expect((await api('/patients/S-25/portal', { method: 'PUT', token: staff, body: { email: 's25-new@example.test' } })).status).toBe(200);
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(401);
    expect((await api('/account', { token: (await signIn(username, good)).json.accessToken })).status).toBe(200);
  });

  it('rule 17: a password change ends the token it was made with too, at once; the fresh tokens work', async () => {
    const { tokens } = await registered('S-26');
    const changed = await api('/account/credentials', { method: 'PUT', token: tokens.accessToken, body: { currentPassword: good, newPassword: 'quartz meadow harbor kettle' } });
    expect(changed.status).toBe(200);
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(401);
    expect((await api('/account', { token: changed.json.accessToken })).status).toBe(200);
  });

  it('rule 17: a token refreshed at Cognito carries no generation and opens no patient route', async () => {
    const { tokens } = await registered('S-28');
    expect((await api('/account', { token: tokens.accessToken })).status).toBe(200);
    // The same refresh a patient could send Cognito directly, with ClientMetadata of their choosing.
    const refreshed = await new CognitoIdentityProviderClient({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, endpoint: stack().cognitoApiEndpoint }).send(
      new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: stack().patientClientId, AuthParameters: { REFRESH_TOKEN: tokens.refreshToken }, ClientMetadata: { portal_generation: '0' } }),
    );
    const accessToken = refreshed.AuthenticationResult?.AccessToken;
    expect(accessToken).toBeTruthy();
    expect(JSON.parse(Buffer.from(accessToken!.split('.')[1]!, 'base64url').toString('utf8'))).not.toHaveProperty('portal_generation');
    expect((await api('/account', { token: accessToken! })).status).toBe(401);
  });

  it('rule 3, rule 17: the local stack plays the V2 trigger on patient tokens: the generation claim, never the admin scope', async () => {
    const { tokens } = await registered('S-29');
    const claims = JSON.parse(Buffer.from(String(tokens.accessToken).split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(typeof claims.portal_generation).toBe('number');
    expect(String(claims.scope ?? '')).not.toContain('aws.cognito.signin.user.admin');
  });

  it('a staff token opens no patient route', async () => {
    expect((await api('/account', { token: staff })).status).toBe(401);
  });
});
