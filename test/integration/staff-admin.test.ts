/**
 * Staff administration against the local stack (issue 12 items 3 and 4, issue 13 item 11, rules
 * 28 and 30): an admin makes a staff user, who signs in for the first time (new password, TOTP
 * enrolment); disabling them refuses their next request and their sign-in; re-enabling does not
 * revive old tokens; permissions set under another spelling of the name take effect; the
 * `npm run staff` command does the same against the local stack.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, stack } from './support/stack.ts';
import { firstSignIn, signInWithTotp, staffAccessTokens } from './support/staff-session.ts';

let admin: string;
const newPassword = 'a staff member chose this long password';
const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Until the whole second after `seconds` has begun: a sign-in then is after a cut-off set at `seconds`. */
async function pastSecond(seconds: number): Promise<void> {
  const wait = seconds * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait + 20));
}

/** POST /staff and the new user's first sign-in: their TOTP secret and tokens. */
async function newStaffUser(prefix: string, role: 'staff' | 'admin' = 'staff') {
  const username = uniqueName(prefix);
  const made = await api('/staff', { method: 'POST', token: admin, body: { username, email: `${username}@example.test`, role } });
  expect(made.status).toBe(201);
  expect(made.json).toEqual({ username, temporaryPassword: expect.stringMatching(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/), expiresAt: expect.any(String) });
  const first = await firstSignIn(username, made.json.temporaryPassword, newPassword);
  return { username, secret: first.secret, token: first.tokens.accessToken };
}

beforeAll(async () => {
  admin = (await staffAccessTokens()).admin;
});

describe('staff administration', () => {
  it('POST /staff: a new user signs in with the temporary password, sets their own and enrols TOTP; GET /staff/me and GET /staff show them', async () => {
    const user = await newStaffUser('sa-new');
    const me = await api('/staff/me', { token: user.token });
    expect(me).toMatchObject({ status: 200, json: { username: user.username, roles: ['staff'], permissions: { canInvite: true, autoInvite: false } } });
    const list = await api('/staff', { token: admin });
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ username: user.username, email: `${user.username}@example.test`, roles: ['staff'], enabled: true }),
        expect.objectContaining({ username: stack().admin.username, roles: ['admin'], enabled: true }),
      ]),
    );
    const taken = await api('/staff', { method: 'POST', token: admin, body: { username: user.username.toUpperCase(), email: 'x@example.test', role: 'admin' } });
    expect(taken).toMatchObject({ status: 409, json: { type: '/problems/username-taken' } });
    expect((await api('/staff', { token: user.token })).status).toBe(403);
  });

  it("rule 30: disabling a staff user refuses their next request and their sign-in; re-enabling does not revive the old token; a new sign-in works", async () => {
    const user = await newStaffUser('sa-off');
    expect((await api('/patients', { token: user.token })).status).toBe(200);

    const off = await api(`/staff/${user.username.toUpperCase()}`, { method: 'PUT', token: admin, body: { enabled: false } });
    expect(off).toMatchObject({ status: 200, json: { username: user.username, enabled: false } });
    const cutoff = Math.ceil(Date.now() / 1000); // at or after the record's cut-off
    const refused = await api('/patients', { token: user.token });
    expect(refused.status).toBe(401);
    const badToken = await api('/patients', { token: `${user.token.slice(0, -4)}AAAA` });
    expect(refused.json.type).toBe(badToken.json.type);
    expect(refused.json.detail).toBe(badToken.json.detail);
    await expect(signInWithTotp(user.username, newPassword, user.secret)).rejects.toThrow();

    const on = await api(`/staff/${user.username}`, { method: 'PUT', token: admin, body: { enabled: true } });
    expect(on).toMatchObject({ status: 200, json: { enabled: true } });
    expect((await api('/patients', { token: user.token })).status).toBe(401);
    await pastSecond(cutoff);
    const again = await signInWithTotp(user.username, newPassword, user.secret);
    expect((await api('/patients', { token: again.accessToken })).status).toBe(200);
  });

  it("rule 28/issue 13.11: an admin removing canInvite for 'STAFF' (other case) takes effect for 'staff'", async () => {
    const user = await newStaffUser('sa-perm');
    const patientId = uniqueName('SA');
    expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: user.token, body: { email: `${patientId.toLowerCase()}@example.test` } })).status).toBe(200);
    const put = await api(`/staff/${user.username.toUpperCase()}/permissions`, { method: 'PUT', token: admin, body: { canInvite: false } });
    expect(put).toMatchObject({ status: 200, json: { canInvite: false } });
    expect((await api(`/staff/${user.username}/permissions`, { token: user.token })).json).toEqual({ canInvite: false, autoInvite: false });
    const invite = await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: user.token });
    expect(invite.status).toBe(403);
    // And naming a colleague with invite permission in the body lends none (rule 28).
    const asColleague = await api('/events/note-signed', { method: 'POST', token: user.token, body: { patientId, signedBy: stack().admin.username } });
    expect(asColleague.status).toBe(403);
    expect((await api(`/patients/${patientId}/portal`, { token: admin })).json.invite.status).toBe('None');
  });

  it('an admin cannot disable or demote themselves: 409 in words', async () => {
    const self = await api(`/staff/${stack().admin.username.toUpperCase()}`, { method: 'PUT', token: admin, body: { enabled: false } });
    expect(self).toMatchObject({ status: 409, json: { type: '/problems/own-account', detail: expect.stringMatching(/your own account/) } });
    expect((await api(`/staff/${stack().admin.username}`, { method: 'PUT', token: admin, body: { role: 'staff' } })).status).toBe(409);
    expect((await api('/staff/me', { token: admin })).json.roles).toEqual(['admin']);
  });

  it('POST /staff/{staffId}/mfa-reset ends the sessions and is audited; 404 for an unknown user', async () => {
    const user = await newStaffUser('sa-mfa');
    const reset = await api(`/staff/${user.username}/mfa-reset`, { method: 'POST', token: admin });
    expect(reset).toMatchObject({ status: 200, json: { username: user.username, mfaEnrolled: false } });
    expect((await api('/staff/me', { token: user.token })).status).toBe(401);
    expect((await api(`/staff/${uniqueName('ghost')}/mfa-reset`, { method: 'POST', token: admin })).status).toBe(404);
  });
});

describe('npm run staff (issue 12 item 4) against the local stack', () => {
  const run = promisify(execFile);
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'staff-cli-'));
    await writeFile(join(dataDir, 'stack.json'), JSON.stringify(stack()), { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'bin/staff.ts', ...args, '--local', '--data-dir', dataDir], { env: { ...process.env, LOG_LEVEL: 'silent' } });

  it('create prints the temporary password once and the next step; the user then signs in; disable refuses them; bad input is a clear error', async () => {
    const username = uniqueName('cli-admin');
    const { stdout } = await cli('create', username, '--email', `${username}@example.test`, '--admin');
    const password = /Temporary password \(shown once, never emailed\): (\S+)/.exec(stdout)?.[1];
    expect(password).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
    expect(stdout).toMatch(/Next: .* sign in at .*\/console, choose their own password, and enrol an authenticator app/);
    const first = await firstSignIn(username, password!, newPassword);
    expect((await api('/staff/me', { token: first.tokens.accessToken })).json).toMatchObject({ username, roles: ['admin'] });

    expect((await cli('list')).stdout).toContain(username);
    await cli('disable', username.toUpperCase());
    expect((await api('/staff/me', { token: first.tokens.accessToken })).status).toBe(401);

    const bad = await cli('create', 'x', '--email', 'not-an-email').catch((err: { code: number; stderr: string }) => err);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/username: must be .*--email/s) });
    const taken = await cli('create', username, '--email', `${username}@example.test`).catch((err: { code: number; stderr: string }) => err);
    expect(taken).toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') });
  });
});
