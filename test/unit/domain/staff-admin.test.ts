/**
 * Staff administration and the staff record, over the real adapters: the DynamoDB store on the
 * in-memory DynamoDB, and the Cognito staff pool adapter against a fake pool behind
 * aws-sdk-client-mock (test/support/memory-staff-pool.ts).
 */
import { AdminAddUserToGroupCommand, AdminCreateUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dynamoStore } from '../../../lambdas/adapters/dynamo-store.ts';
import { cognitoStaffPool } from '../../../lambdas/adapters/staff-admin.ts';
import { changePermissions, readPermissions, requireInvitePermission } from '../../../lambdas/domain/permissions.ts';
import {
  changeStaff,
  createStaff,
  listStaff,
  resetStaffMfa,
  sessionAccepted,
  staffSignInRefusal,
  type StaffAdminDeps,
  type StaffRecord,
} from '../../../lambdas/domain/staff-admin.ts';
import { memoryDynamo, type MemoryDynamo } from '../../support/memory-dynamo.ts';
import { memoryStaffPool } from '../../support/memory-staff-pool.ts';

const pool = memoryStaffPool();
let db: MemoryDynamo;
let failTransactions = 0;
let now = new Date('2026-11-21T10:00:00.400Z');
const deps = (): StaffAdminDeps => ({
  store: dynamoStore(),
  pool: cognitoStaffPool(new CognitoIdentityProviderClient({ region: 'us-east-1' }), 'us-east-1_staff'),
  clock: () => now,
});
const admin = { id: 'admin', sub: 'sub-admin', sourceIp: '198.51.100.7' };

beforeEach(() => {
  db = memoryDynamo();
  failTransactions = 0;
  now = new Date('2026-11-21T10:00:00.400Z');
  vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(((command: { input: unknown }) => {
    if (command instanceof TransactWriteCommand && failTransactions > 0) {
      failTransactions--;
      return Promise.reject(Object.assign(new Error('injected'), { name: 'InternalServerError' }));
    }
    return db.send(command);
  }) as never);
  pool.reset();
  pool.add('admin', 'admin');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const record = async (sub: string) => dynamoStore().getStaff(sub);
const audit = () => [...db.table('audit-test').values()];
/** What auth.ts does with a token: the record by the token's sub, then the cut-off. */
const tokenAccepted = async (sub: string, iat: number) => sessionAccepted(await record(sub), iat);
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

describe('POST /staff (createStaff)', () => {
  it('makes the login with a grouped temporary password, never emailed, in its group, with its record and audit entry', async () => {
    const out = await createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' });
    expect(out.username).toBe('frontdesk');
    expect(out.temporaryPassword).toMatch(/^[A-HJKMNP-Z2-9]{4}(-[A-HJKMNP-Z2-9]{4}){3}$/);
    expect(Date.parse(out.expiresAt) - now.getTime()).toBe(7 * 86_400_000);
    const [create] = pool.idp.commandCalls(AdminCreateUserCommand);
    expect(create!.args[0].input).toMatchObject({ MessageAction: 'SUPPRESS', Username: 'frontdesk', TemporaryPassword: out.temporaryPassword });
    const login = pool.find('frontdesk')!;
    expect([...login.groups]).toEqual(['staff']);
    expect(await record(login.sub)).toMatchObject({ username: 'frontdesk', enabled: true, roles: ['staff'], permissions: { canInvite: true, autoInvite: false }, sessionsValidFrom: 0, version: 1 });
    expect(audit()).toEqual([expect.objectContaining({ actor: 'admin', action: 'staff.created', target: `staff:${login.sub}`, detail: { username: 'frontdesk', role: 'staff' } })]);
    expect(JSON.stringify(audit())).not.toContain(out.temporaryPassword);
  });

  it('409 for a name taken in any case, whether or not the login has a record; nothing changes', async () => {
    await createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' });
    const before = pool.find('frontdesk')!.password;
    await expect(createStaff(deps(), admin, { username: 'FrontDesk', email: 'fd@example.test', role: 'admin' })).rejects.toMatchObject({ kind: 'conflict', code: 'username-taken' });
    // A login someone already signed in with but that has no record (made in the console): taken too.
    pool.add('console.made', 'staff');
    await expect(createStaff(deps(), admin, { username: 'console.made', email: 'console.made@example.test', role: 'staff' })).rejects.toMatchObject({ code: 'username-taken' });
    expect(pool.find('frontdesk')!.password).toBe(before);
    expect([...pool.find('frontdesk')!.groups]).toEqual(['staff']);
    expect(await record('sub-console.made')).toBeUndefined();
  });

  it('safe to retry: the record write failed after Cognito made the login; the retry finishes it with a new password that works', async () => {
    failTransactions = 1;
    await expect(createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' })).rejects.toThrow('injected');
    const login = pool.find('frontdesk')!;
    expect(await record(login.sub)).toBeUndefined();

    const retry = await createStaff(deps(), admin, { username: 'frontdesk', email: 'FD@example.test', role: 'staff' });
    expect(retry.username).toBe('frontdesk');
    expect(login.password).toBe(retry.temporaryPassword);
    expect(login.status).toBe('FORCE_CHANGE_PASSWORD');
    expect(await record(login.sub)).toMatchObject({ enabled: true, roles: ['staff'] });
    expect(audit().map((a) => [a.action, a.detail.resumed])).toEqual([['staff.created', true]]);
    // And once finished, a third attempt is a plain 409.
    await expect(createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' })).rejects.toMatchObject({ code: 'username-taken' });
  });

  it('safe to retry: adding to the group failed; the retry finishes it', async () => {
    pool.failOn(AdminAddUserToGroupCommand);
    await expect(createStaff(deps(), admin, { username: 'nurse', email: 'n@example.test', role: 'admin' })).rejects.toThrow('injected failure');
    const retry = await createStaff(deps(), admin, { username: 'nurse', email: 'n@example.test', role: 'admin' });
    expect(pool.find('nurse')!.password).toBe(retry.temporaryPassword);
    expect([...pool.find('nurse')!.groups]).toEqual(['admin']);
  });

  it('a retry with another email is not the same request: 409, the login untouched', async () => {
    failTransactions = 1;
    await expect(createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' })).rejects.toThrow();
    const password = pool.find('frontdesk')!.password;
    await expect(createStaff(deps(), admin, { username: 'frontdesk', email: 'other@example.test', role: 'admin' })).rejects.toMatchObject({ code: 'username-taken' });
    expect(pool.find('frontdesk')!.password).toBe(password);
  });
});

describe('PUT /staff/{staffId} (changeStaff), rule 30', () => {
  it('rule 30: disabling refuses every token from before, the same second included; re-enabling does not revive them; a new sign-in works', async () => {
    await createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' });
    const sub = pool.find('frontdesk')!.sub;
    const earlier = seconds(now) - 60;
    expect(await tokenAccepted(sub, earlier)).toBe(true);

    const out = await changeStaff(deps(), admin, 'frontdesk', { enabled: false });
    expect(out).toMatchObject({ username: 'frontdesk', enabled: false });
    expect(await tokenAccepted(sub, earlier)).toBe(false);
    expect(await tokenAccepted(sub, seconds(now))).toBe(false); // issued in the second of the disable
    expect(pool.find('frontdesk')).toMatchObject({ enabled: false, signedOutAt: expect.any(Number) });
    expect((await record(sub))!.sessionsValidFrom).toBe(Math.ceil(now.getTime() / 1000));

    now = new Date(now.getTime() + 5_000);
    await changeStaff(deps(), admin, 'FRONTDESK', { enabled: true });
    expect(pool.find('frontdesk')!.enabled).toBe(true);
    expect(await tokenAccepted(sub, earlier)).toBe(false);
    expect(await tokenAccepted(sub, seconds(now))).toBe(true);
    expect(audit().map((a) => [a.actor, a.action])).toEqual([
      ['admin', 'staff.created'],
      ['admin', 'staff.disabled'],
      ['admin', 'staff.enabled'],
    ]);
  });

  it('rule 30: the staff sign-in refuses a disabled record (cognito-local lets a disabled login sign in) and a login without one', async () => {
    await createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' });
    const sub = pool.find('frontdesk')!.sub;
    const token = (s: string) => `h.${Buffer.from(JSON.stringify({ sub: s })).toString('base64url')}.s`;
    expect(await staffSignInRefusal(dynamoStore(), token(sub))).toBeUndefined();
    await changeStaff(deps(), admin, 'frontdesk', { enabled: false });
    expect(await staffSignInRefusal(dynamoStore(), token(sub))).toBe('disabled');
    expect(await staffSignInRefusal(dynamoStore(), token('sub-nobody'))).toBe('no-staff-record');
  });

  it('changes the role in the pool and on the record', async () => {
    await createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' });
    const out = await changeStaff(deps(), admin, 'frontdesk', { role: 'admin' });
    expect(out.roles).toEqual(['admin']);
    expect([...pool.find('frontdesk')!.groups]).toEqual(['admin']);
    expect((await record(pool.find('frontdesk')!.sub))!.roles).toEqual(['admin']);
  });

  it('an admin cannot disable or demote themselves, named in any case: 409 in words, nothing changed', async () => {
    await changeStaff(deps(), { ...admin, sub: 'sub-other' }, 'admin', { enabled: true }); // gives the seeded admin a record
    for (const change of [{ enabled: false }, { role: 'staff' as const }]) {
      const err = await changeStaff(deps(), admin, 'ADMIN', change).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'conflict', code: 'own-account' });
      expect((err as Error).message).toMatch(/cannot .* your own account/);
    }
    expect(pool.find('admin')).toMatchObject({ enabled: true });
    expect([...pool.find('admin')!.groups]).toEqual(['admin']);
    expect((await record('sub-admin'))!.enabled).toBe(true);
  });

  it('404 for a name the pool does not have', async () => {
    await expect(changeStaff(deps(), admin, 'ghost', { enabled: false })).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('a login made outside this API has no record: it can do nothing until an admin enables it', async () => {
    pool.add('console.made', 'staff');
    expect(await tokenAccepted('sub-console.made', seconds(now))).toBe(false);
    expect(await readPermissions({ store: dynamoStore(), pool: deps().pool }, 'console.made')).toEqual({ canInvite: false, autoInvite: false });
    await expect(changeStaff(deps(), admin, 'console.made', { role: 'admin' })).rejects.toMatchObject({ code: 'no-staff-record' });
    await changeStaff(deps(), admin, 'console.made', { enabled: true });
    expect(await tokenAccepted('sub-console.made', seconds(now))).toBe(true);
  });
});

describe('permissions keyed by the login, issue 13 item 11 and rule 28', () => {
  it("rule 28/issue 13.11: an admin removing canInvite for 'STAFF' (other case) takes effect for 'staff'", async () => {
    pool.add('staff', 'staff');
    await changeStaff(deps(), admin, 'staff', { enabled: true });
    const d = { store: dynamoStore(), pool: deps().pool, clock: () => now };
    expect(await changePermissions(d, admin, 'STAFF', { canInvite: false })).toEqual({ canInvite: false, autoInvite: false });
    expect(await readPermissions(d, 'staff')).toEqual({ canInvite: false, autoInvite: false });
    expect(await readPermissions(d, 'Staff')).toEqual({ canInvite: false, autoInvite: false });
    // What auth.ts hands the domain for the 'staff' login's token: its own record, by sub.
    const own = (await record('sub-staff'))!;
    expect(() => requireInvitePermission({ id: 'staff', sourceIp: '', staff: own })).toThrow(/do not include inviting/);
    // One record, not one per spelling.
    expect([...db.table('records-test').keys()].filter((k) => k.startsWith('STAFF#'))).toEqual(['STAFF#sub-staff|STAFF']);
    expect(audit().at(-1)).toMatchObject({ actor: 'admin', action: 'staff-permissions.updated', target: 'staff:sub-staff', detail: { fields: ['canInvite'] } });
  });

  it('the admin role may invite whatever its record says; a staff role only by its record; no record, no permission', () => {
    const base: Pick<StaffRecord, 'sub' | 'permissions'> = { sub: 's', permissions: { canInvite: false, autoInvite: false } };
    expect(() => requireInvitePermission({ id: 'a', sourceIp: '', staff: { ...base, roles: ['admin'] } })).not.toThrow();
    expect(() => requireInvitePermission({ id: 's', sourceIp: '', staff: { ...base, roles: ['staff'] } })).toThrow();
    expect(() => requireInvitePermission({ id: 's', sourceIp: '' })).toThrow();
  });
});

describe('GET /staff and MFA reset', () => {
  it('lists every login with its role, state, authenticator and permissions; a login without a record shows disabled with none', async () => {
    await createStaff(deps(), admin, { username: 'frontdesk', email: 'fd@example.test', role: 'staff' });
    await changeStaff(deps(), { ...admin, sub: 'sub-x' }, 'admin', { enabled: true });
    pool.add('console.made', 'staff');
    const { items } = await listStaff(deps());
    expect(items).toEqual([
      expect.objectContaining({ username: 'admin', roles: ['admin'], enabled: true, mfaEnrolled: true, permissions: { canInvite: true, autoInvite: false } }),
      expect.objectContaining({ username: 'console.made', roles: ['staff'], enabled: false, permissions: { canInvite: false, autoInvite: false } }),
      expect.objectContaining({ username: 'frontdesk', email: 'fd@example.test', roles: ['staff'], enabled: true, mfaEnrolled: false }),
    ]);
  });

  it('an MFA reset removes the factor, ends every session and is audited', async () => {
    pool.add('staff', 'staff');
    await changeStaff(deps(), admin, 'staff', { enabled: true });
    now = new Date(now.getTime() + 10_000);
    const out = await resetStaffMfa(deps(), admin, 'Staff');
    expect(out).toMatchObject({ username: 'staff', mfaEnrolled: false, enabled: true });
    expect(pool.find('staff')!.mfa).toBe(false);
    expect(await tokenAccepted('sub-staff', seconds(now))).toBe(false);
    expect(await record('sub-staff')).toMatchObject({ mfaResetAt: now.toISOString(), enabled: true });
    expect(audit().at(-1)).toMatchObject({ actor: 'admin', action: 'staff.mfa-reset', target: 'staff:sub-staff' });
  });

  it('rule 30: an MFA reset whose record write fails has not removed the factor while the old sessions still work (sessions end first); the retry completes', async () => {
    pool.add('staff', 'staff');
    await changeStaff(deps(), admin, 'staff', { enabled: true });
    const before = seconds(now);
    now = new Date(now.getTime() + 10_000);
    failTransactions = 1;
    await expect(resetStaffMfa(deps(), admin, 'staff')).rejects.toThrow();
    // Out rather than in: whoever holds the lost authenticator and a token must not keep the
    // session while the factor is already gone.
    if (pool.find('staff')!.mfa === false) expect(await tokenAccepted('sub-staff', before)).toBe(false);
    const out = await resetStaffMfa(deps(), admin, 'staff');
    expect(out).toMatchObject({ mfaEnrolled: false });
    expect(pool.find('staff')!.mfa).toBe(false);
    expect(await tokenAccepted('sub-staff', before)).toBe(false);
  });
});
