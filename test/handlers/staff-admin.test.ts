/**
 * The staff routes and the staff-token check, through the handlers: real RS256 tokens, the real
 * staff-record read (not test/handlers/env.ts's stand-in), the DynamoDB store on the in-memory
 * DynamoDB and the staff pool adapter against a fake pool behind aws-sdk-client-mock.
 */
import { DescribeUserPoolClientCommand, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetStaffClientSecretForTests } from '../../lambdas/adapters/staff-directory.ts';
import { handler as patientsSearch } from '../../lambdas/handlers/patients/search.ts';
import { handler as staffSignIn } from '../../lambdas/handlers/staff-sign-in/create.ts';
import { handler as createStaff } from '../../lambdas/handlers/staff-admin/create.ts';
import { handler as listStaff } from '../../lambdas/handlers/staff-admin/list.ts';
import { handler as me } from '../../lambdas/handlers/staff-admin/me.ts';
import { handler as mfaReset } from '../../lambdas/handlers/staff-admin/mfa-reset.ts';
import { handler as updateStaff } from '../../lambdas/handlers/staff-admin/update.ts';
import { handler as getPermissions } from '../../lambdas/handlers/staff-permissions/get.ts';
import { handler as putPermissions } from '../../lambdas/handlers/staff-permissions/put.ts';
import { apiEvent, call } from '../support/events.ts';
import { memoryDynamo, type MemoryDynamo } from '../support/memory-dynamo.ts';
import { memoryStaffPool } from '../support/memory-staff-pool.ts';
import { adminToken, serveJwks, staffToken } from '../support/tokens.ts';

vi.unmock('../../lambdas/http/staff-session.ts');

const pool = memoryStaffPool();
let db: MemoryDynamo;
const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeEach(async () => {
  serveJwks();
  db = memoryDynamo();
  vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(((command: { input: unknown }) => db.send(command)) as never);
  pool.reset();
  // The seeded admin ('boss' in test tokens) and a front-desk user, each with a record.
  pool.add('boss', 'admin', { sub: 'sub-boss' });
  pool.add('frontdesk', 'staff', { sub: 'sub-frontdesk' });
  for (const [name, role] of [['boss', 'admin'], ['frontdesk', 'staff']] as const) {
    db.table('records-test').set(`STAFF#sub-${name}|STAFF`, {
      pk: `STAFF#sub-${name}`, sk: 'STAFF', sub: `sub-${name}`, username: name, enabled: true, roles: [role],
      permissions: { canInvite: true, autoInvite: false }, sessionsValidFrom: 0, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 1,
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

const asAdmin = (method: string, body?: unknown, staffId?: string) =>
  apiEvent({ method, token: adminToken(), ...(body === undefined ? {} : { body }), ...(staffId ? { pathParameters: { staffId } } : {}) });
const search = (token: string) => call(patientsSearch, apiEvent({ method: 'GET', token }));

describe('rule 30: staff tokens are checked against the staff record on every request', () => {
  it("rule 30: a disabled staff user's tokens are refused on the next request, with the bad-token body; re-enabling does not revive them; a new sign-in works", async () => {
    const old = staffToken({ username: 'frontdesk', issuedAt: nowSeconds() - 30 });
    expect((await search(old)).status).toBe(200);

    const disabled = await call(updateStaff, asAdmin('PUT', { enabled: false }, 'FrontDesk'));
    expect(disabled).toMatchObject({ status: 200, json: { username: 'frontdesk', enabled: false } });
    const refused = await search(old);
    expect(refused.status).toBe(401);
    const sameSecond = await search(staffToken({ username: 'frontdesk' }));
    expect(sameSecond.status).toBe(401);
    const forged = await search(`${old.slice(0, -4)}AAAA`);
    expect(refused.json).toEqual({ ...forged.json, instance: refused.json.instance });

    expect((await call(updateStaff, asAdmin('PUT', { enabled: true }, 'frontdesk'))).status).toBe(200);
    expect((await search(old)).status).toBe(401);
    const cutoff = (db.table('records-test').get('STAFF#sub-frontdesk|STAFF') as { sessionsValidFrom: number }).sessionsValidFrom;
    expect((await search(staffToken({ username: 'frontdesk', issuedAt: cutoff }))).status).toBe(200);
  });

  it('rule 30: a demoted admin loses the admin role on the next request, though their token still carries the group', async () => {
    pool.add('second', 'admin', { sub: 'sub-second' });
    db.table('records-test').set('STAFF#sub-second|STAFF', {
      pk: 'STAFF#sub-second', sk: 'STAFF', sub: 'sub-second', username: 'second', enabled: true, roles: ['admin'],
      permissions: { canInvite: true, autoInvite: false }, sessionsValidFrom: 0, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z', version: 1,
    });
    const token = staffToken({ username: 'second', groups: ['admin'] });
    expect((await call(listStaff, apiEvent({ method: 'GET', token }))).status).toBe(200);
    expect((await call(updateStaff, asAdmin('PUT', { role: 'staff' }, 'second'))).status).toBe(200);
    expect((await call(listStaff, apiEvent({ method: 'GET', token }))).status).toBe(403);
  });

  it('rule 30: a token whose login has no staff record is refused', async () => {
    expect((await search(staffToken({ username: 'nobody' }))).status).toBe(401);
  });

  it('rule 30: the staff sign-in refuses a disabled login with the wrong-password body (cognito-local lets it sign in)', async () => {
    await call(updateStaff, asAdmin('PUT', { enabled: false }, 'frontdesk'));
    const token = staffToken({ username: 'frontdesk', issuedAt: nowSeconds() + 2 });
    forgetStaffClientSecretForTests();
    pool.idp.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { ClientId: 'staffclient', ClientSecret: 'the-staff-client-secret' } });
    pool.idp.on(InitiateAuthCommand).resolves({ AuthenticationResult: { AccessToken: token, IdToken: 'i', RefreshToken: 'r', ExpiresIn: 3600 } });
    const attempt = await call(staffSignIn, apiEvent({ method: 'POST', body: { username: 'frontdesk', password: 'the right password' } }));
    pool.idp.on(InitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'NotAuthorizedException' }));
    const wrong = await call(staffSignIn, apiEvent({ method: 'POST', body: { username: 'frontdesk', password: 'a wrong password' } }));
    expect(attempt.status).toBe(401);
    expect(attempt.json).toEqual({ ...wrong.json, instance: attempt.json.instance });
    expect(attempt.json).not.toHaveProperty('accessToken');
    const audited = [...db.table('audit-test').values()].filter((a) => a.action === 'staff.sign-in');
    expect(audited[0]).toMatchObject({ outcome: 'failure', detail: { reason: 'invalid-credentials' } });
  });
});

describe('the staff routes', () => {
  it('GET /staff/me: own role, permissions and authenticator', async () => {
    const res = await call(me, apiEvent({ method: 'GET', token: staffToken({ username: 'frontdesk' }) }));
    expect(res).toMatchObject({ status: 200, json: { username: 'frontdesk', roles: ['staff'], permissions: { canInvite: true, autoInvite: false }, mfaEnrolled: true } });
  });

  it('POST /staff: 201 with the temporary password once; 409 when the name is taken in any case; 400 for bad input; 403 for a staff role', async () => {
    const made = await call(createStaff, asAdmin('POST', { username: 'Nurse.Joy', email: 'joy@example.test', role: 'staff' }));
    expect(made).toMatchObject({ status: 201, json: { username: 'nurse.joy', temporaryPassword: expect.stringMatching(/^\w{4}-\w{4}-\w{4}-\w{4}$/) } });
    expect((await call(createStaff, asAdmin('POST', { username: 'NURSE.JOY', email: 'joy@example.test', role: 'staff' }))).json).toMatchObject({ status: 409, type: '/problems/username-taken' });
    const bad = await call(createStaff, asAdmin('POST', { username: 'x', email: 'not an email', role: 'root' }));
    expect(bad.status).toBe(400);
    const asStaff = await call(createStaff, apiEvent({ method: 'POST', token: staffToken({ username: 'frontdesk' }), body: { username: 'eve', email: 'e@example.test', role: 'admin' } }));
    expect(asStaff.status).toBe(403);
    expect(pool.find('eve')).toBeUndefined();
  });

  it('GET /staff lists users; PUT refuses an admin disabling or demoting themselves with a 409 in words', async () => {
    const list = await call(listStaff, asAdmin('GET'));
    expect(list.json.items.map((u: { username: string }) => u.username)).toEqual(['boss', 'frontdesk']);
    const self = await call(updateStaff, asAdmin('PUT', { enabled: false }, 'BOSS'));
    expect(self).toMatchObject({ status: 409, json: { type: '/problems/own-account', detail: expect.stringMatching(/own account/) } });
    expect((await call(updateStaff, asAdmin('PUT', { role: 'staff' }, 'boss'))).status).toBe(409);
    expect((await call(updateStaff, asAdmin('PUT', {}, 'frontdesk'))).status).toBe(400);
  });

  it("rule 28/issue 13.11: an admin removing canInvite for 'STAFF' (other case) takes effect for 'staff'", async () => {
    pool.add('staff', 'staff', { sub: 'sub-staff' });
    await call(updateStaff, asAdmin('PUT', { enabled: true }, 'staff'));
    const put = await call(putPermissions, asAdmin('PUT', { canInvite: false }, 'STAFF'));
    expect(put).toMatchObject({ status: 200, json: { canInvite: false } });
    const read = await call(getPermissions, apiEvent({ method: 'GET', token: staffToken({ username: 'staff' }), pathParameters: { staffId: 'staff' } }));
    expect(read.json).toEqual({ canInvite: false, autoInvite: false });
    const mine = await call(me, apiEvent({ method: 'GET', token: staffToken({ username: 'staff' }) }));
    expect(mine.json.permissions).toEqual({ canInvite: false, autoInvite: false });
  });

  it('POST /staff/{staffId}/mfa-reset: the factor goes, the sessions end, audited with the admin as actor', async () => {
    const token = staffToken({ username: 'frontdesk', issuedAt: nowSeconds() - 5 });
    const res = await call(mfaReset, asAdmin('POST', undefined, 'frontdesk'));
    expect(res).toMatchObject({ status: 200, json: { username: 'frontdesk', mfaEnrolled: false } });
    expect(pool.find('frontdesk')!.mfa).toBe(false);
    expect((await search(token)).status).toBe(401);
    expect([...db.table('audit-test').values()].at(-1)).toMatchObject({ actor: 'boss', action: 'staff.mfa-reset' });
  });
});
