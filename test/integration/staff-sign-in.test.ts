/**
 * Staff sign-in with TOTP against the local stack (issue 12 items 1 and 2, rule 30): the seeded
 * admin's code checked by cognito-local, and a new staff user's first sign-in through
 * NEW_PASSWORD_REQUIRED and MFA_SETUP (AWS's enrolment, played by lib/local/cognito-mfa.ts).
 */
import { randomUUID } from 'node:crypto';
import { AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, it } from 'vitest';
import { api, claims, cognito, stack } from './support/stack.ts';
import { firstSignIn, freshCode, signInWithTotp, staffAccessTokens, totpCode } from './support/staff-session.ts';

const post = (path: string, body: unknown) => api(path, { method: 'POST', body });

describe('staff sign-in with TOTP on the local stack', () => {
  it('rule 30: the seeded admin: password → SOFTWARE_TOKEN_MFA → code → tokens of the admin group', async () => {
    const { username, password, totpSecret } = stack().admin;
    const first = await post('/staff/sessions', { username, password });
    expect(first.json).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
    const wrong = await post('/staff/sessions/challenge', { session: first.json.session, challenge: 'SOFTWARE_TOKEN_MFA', code: totpCode(totpSecret, Date.now() - 10 * 60_000) });
    expect(wrong.status).toBe(401);
    const again = await post('/staff/sessions', { username, password });
    const done = await post('/staff/sessions/challenge', { session: again.json.session, challenge: 'SOFTWARE_TOKEN_MFA', code: await freshCode(username, totpSecret) });
    expect(done.status).toBe(200);
    expect(claims(done.json.accessToken)['cognito:groups']).toEqual(['admin']);
  });

  it('rule 30: a new staff user: temporary password → NEW_PASSWORD_REQUIRED → MFA_SETUP → enrolment → tokens; then SOFTWARE_TOKEN_MFA', async () => {
    const username = `new-${randomUUID().slice(0, 8)}`;
    const temporary = `Temp ${randomUUID()}`;
    const chosen = `a brand new staff passphrase ${randomUUID().slice(0, 6)}`;
    await cognito().send(
      new AdminCreateUserCommand({ UserPoolId: stack().staffUserPoolId, Username: username, TemporaryPassword: temporary, MessageAction: 'SUPPRESS' }),
    );
    await cognito().send(AdminAddUserToGroup(username));
    // A login made outside POST /staff has no staff record, so no tokens (rule 30) until an admin enables it.
    expect((await api(`/staff/${username}`, { method: 'PUT', token: (await staffAccessTokens()).admin, body: { enabled: true } })).status).toBe(200);

    const { secret, tokens, otpauthUri } = await firstSignIn(username, temporary, chosen);
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    expect(otpauthUri).toBe(`otpauth://totp/${encodeURIComponent('Our practice')}:${username}?secret=${secret}&issuer=${encodeURIComponent('Our practice')}`);
    expect(claims(tokens.accessToken).username).toBe(username);
    const user = await cognito().send(new AdminGetUserCommand({ UserPoolId: stack().staffUserPoolId, Username: username }));
    expect(user.UserMFASettingList).toContain('SOFTWARE_TOKEN_MFA');

    // Signed in again: the password alone gets no tokens, the code does.
    const again = await signInWithTotp(username, chosen, secret);
    expect(claims(again.accessToken).username).toBe(username);
  });

  it('rule 30: an MFA_SETUP session is bound to its user and its step', async () => {
    const username = `new-${randomUUID().slice(0, 8)}`;
    const temporary = `Temp ${randomUUID()}`;
    await cognito().send(
      new AdminCreateUserCommand({ UserPoolId: stack().staffUserPoolId, Username: username, TemporaryPassword: temporary, MessageAction: 'SUPPRESS' }),
    );
    const first = await post('/staff/sessions', { username, password: temporary });
    expect(first.json.challenge).toBe('NEW_PASSWORD_REQUIRED');
    const changed = await post('/staff/sessions/challenge', { session: first.json.session, challenge: 'NEW_PASSWORD_REQUIRED', newPassword: `another staff passphrase ${randomUUID().slice(0, 6)}` });
    expect(changed.json.challenge).toBe('MFA_SETUP');
    // Skipping the verification, or naming another user in the body, gets nowhere.
    expect((await post('/staff/sessions/challenge', { session: changed.json.session, challenge: 'MFA_SETUP', code: '123456' })).status).toBe(401);
    expect((await post('/staff/sessions/challenge', { session: changed.json.session, challenge: 'MFA_SETUP', username: 'admin' })).status).toBe(400);
    const started = await post('/staff/sessions/challenge', { session: changed.json.session, challenge: 'MFA_SETUP' });
    expect(started.json.secretCode).toEqual(expect.any(String));
    const wrongSecret = stack().admin.totpSecret;
    expect((await post('/staff/sessions/challenge', { session: started.json.session, challenge: 'MFA_SETUP', code: totpCode(wrongSecret) })).status).toBe(401);
  });
});

function AdminAddUserToGroup(username: string) {
  return new AdminAddUserToGroupCommand({ UserPoolId: stack().staffUserPoolId, Username: username, GroupName: 'staff' });
}
