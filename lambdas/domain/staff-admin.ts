/**
 * Staff administration and the staff record (issue 12 item 3, issue 13 item 11, rules 28 and 30).
 *
 * The staff record `STAFF#<sub>` is keyed by the login's permanent id (the access token's `sub`),
 * never by a name an admin typed. It holds whether the user may use the API at all (`enabled`),
 * a mirror of their role, their permissions, and the session cut-off: every staff token is
 * checked against it on every request (lambdas/http/auth.ts), so disabling someone refuses
 * their next request in AWS and on cognito-local alike (which neither signs users out nor stops
 * a disabled user signing in).
 *
 * A login without a record can do nothing: no API call (auth refuses it), no sign-in, no
 * permission beyond its role's. Records are made by POST /staff, by the `staff` CLI (the same
 * function), by the local stack's seeding, and by enabling a login made outside this API.
 */
import type { StaffPermissions, StaffPermissionsChange } from '../schemas/staff.ts';
import type { StaffChange, StaffCreate, StaffCreated, StaffMe, StaffRole, StaffUser } from '../schemas/staff-admin.ts';
import { auditEvent, staffTarget, type Actor } from './audit.ts';
import { DomainError, notFound, retryOnConflict } from './errors.ts';
import type { Clock, RecordStore } from './ports.ts';
import { temporaryPassword } from './secrets.ts';

export interface StaffRecord {
  /** The login's permanent id in the staff pool (the token's `sub`). */
  sub: string;
  /** The login's name as the pool lists it. */
  username: string;
  enabled: boolean;
  /** A mirror of the pool groups, kept in step by PUT /staff; the token's groups decide what a route allows. */
  roles: StaffRole[];
  permissions: StaffPermissions;
  /** Epoch seconds: a token is accepted only if its sign-in time is at or after this. */
  sessionsValidFrom: number;
  createdAt: string;
  updatedAt: string;
  /** The last MFA reset: the user enrols again at their next sign-in. */
  mfaResetAt?: string;
  version: number;
}

/** What a new login may do until an admin says otherwise. */
export const defaultPermissions: StaffPermissions = { canInvite: true, autoInvite: false };
/** What a login without a record may do beyond its role: nothing. */
export const noPermissions: StaffPermissions = { canInvite: false, autoInvite: false };

/** The staff pool's temporary-password validity (lib/stack/identity.ts, tempPasswordDays for staff). */
export const STAFF_TEMPORARY_PASSWORD_DAYS = 7;

/** A staff login as the pool holds it. */
export interface PoolUser {
  username: string;
  sub: string;
  email?: string;
  enabled: boolean;
  /** Cognito's UserStatus, e.g. FORCE_CHANGE_PASSWORD, CONFIRMED. */
  status: string;
  createdAt: string;
  mfaEnrolled: boolean;
}

/** The staff user pool, as staff administration needs it (lambdas/adapters/staff-admin.ts). */
export interface StaffPool {
  /** One login by name (the pool matches names case-insensitively); undefined when there is none. */
  find(username: string): Promise<PoolUser | undefined>;
  /** Every login. */
  list(): Promise<PoolUser[]>;
  /** The role groups the login is in. */
  rolesOf(username: string): Promise<StaffRole[]>;
  /** The names in one role group. */
  members(role: StaffRole): Promise<Set<string>>;
  /** A new login with this temporary password, never emailed; 'exists' when the name is taken. */
  create(user: { username: string; email: string; temporaryPassword: string }): Promise<PoolUser | 'exists'>;
  /** A new temporary password (the login must choose its own at the next sign-in). */
  setTemporaryPassword(username: string, password: string): Promise<void>;
  /** Puts the login in this role's group and out of the other's. Safe to repeat. */
  setRole(username: string, role: StaffRole): Promise<void>;
  /** Safe to repeat. */
  setEnabled(username: string, enabled: boolean): Promise<void>;
  /** Ends every refresh token where the pool supports it (cognito-local does not: our cut-off holds). */
  signOutEverywhere(username: string): Promise<void>;
  /** Removes the TOTP factor, so the next sign-in answers MFA_SETUP. */
  resetMfa(username: string): Promise<void>;
}

export interface StaffAdminDeps {
  store: RecordStore;
  pool: StaffPool;
  clock: Clock;
}

/** The caller of a staff route: who they are by name (audit) and by permanent id (records). */
export interface StaffCaller extends Actor {
  sub: string;
}

const ceilSeconds = (now: Date) => Math.ceil(now.getTime() / 1000);

/**
 * Rule 30: whether a token from this sign-in time (epoch seconds, the token's auth_time or iat)
 * may still be used. Disabling sets the cut-off to the next whole second, so a token issued in
 * the same second as the disable is refused too.
 */
export function sessionAccepted(record: StaffRecord | undefined, signedInAt: number): record is StaffRecord {
  return !!record && record.enabled && Number.isFinite(signedInAt) && signedInAt >= record.sessionsValidFrom;
}

/** The name in a `{staffId}` path as the pool is asked for it: case-insensitive, like the AWS pool. */
export const canonicalName = (staffId: string) => staffId.trim().toLowerCase();

/** The login a path names, or 404. */
export async function resolveStaff(pool: Pick<StaffPool, 'find'>, staffId: string): Promise<PoolUser> {
  const user = await pool.find(canonicalName(staffId));
  if (!user) throw notFound('The staff user');
  return user;
}

const staffAudit = (actor: Actor, user: { sub: string; username: string }, action: string, now: Date, detail: Record<string, string | boolean | string[]> = {}) =>
  auditEvent({ id: actor.id, sourceIp: actor.sourceIp }, staffTarget(user.sub), action, now, { username: user.username, ...detail });

function newStaffRecord(user: PoolUser, role: StaffRole, now: Date, permissions: StaffPermissions = defaultPermissions): StaffRecord {
  const at = now.toISOString();
  return {
    sub: user.sub,
    username: user.username,
    enabled: true,
    roles: [role],
    permissions,
    sessionsValidFrom: 0,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

const taken = () => new DomainError('conflict', 'username-taken', 'A staff user with that name already exists.');

/**
 * POST /staff and `npm run staff -- create`: a new login with a temporary password (answered
 * once, never emailed), in its role's group, with its staff record and audit entry.
 *
 * Safe to retry: when the login exists but has no staff record, never signed in
 * (FORCE_CHANGE_PASSWORD) and has the same email, it is an earlier attempt of this request that
 * stopped before the record was written (its answer, and so its password, never reached anyone):
 * it gets a new temporary password and the steps are finished. A login that has a record, or
 * that someone already signed in with, is taken (409).
 * Calls: AdminCreateUser (+ AdminGetUser, AdminSetUserPassword on a retry), AdminAddUserToGroup,
 * AdminRemoveUserFromGroup, 1 Get + 1 TransactWrite.
 */
export async function createStaff(deps: StaffAdminDeps, actor: Actor, input: StaffCreate): Promise<StaffCreated> {
  const username = canonicalName(input.username);
  const password = temporaryPassword();
  const created = await deps.pool.create({ username, email: input.email, temporaryPassword: password });
  let user: PoolUser;
  let resumed = false;
  if (created === 'exists') {
    const existing = await deps.pool.find(username);
    if (!existing) throw taken(); // deleted meanwhile: let the admin try again
    const unfinished =
      existing.status === 'FORCE_CHANGE_PASSWORD' && existing.email?.toLowerCase() === input.email.toLowerCase() && !(await deps.store.getStaff(existing.sub));
    if (!unfinished) throw taken();
    await deps.pool.setTemporaryPassword(existing.username, password);
    user = existing;
    resumed = true;
  } else {
    user = created;
  }
  await deps.pool.setRole(user.username, input.role);
  const now = deps.clock();
  const record = newStaffRecord(user, input.role, now);
  try {
    await deps.store.saveStaff(record, 0, staffAudit(actor, user, 'staff.created', now, { role: input.role, ...(resumed ? { resumed: true } : {}) }));
  } catch (err) {
    // Another request finished this login first: its answer holds the password.
    if (err instanceof DomainError && err.code === 'version-conflict') throw taken();
    throw err;
  }
  const expiresAt = new Date(now.getTime() + STAFF_TEMPORARY_PASSWORD_DAYS * 86_400_000).toISOString();
  return { username: user.username, temporaryPassword: password, expiresAt };
}

/** GET /staff: every login with its record's state. A login without a record shows as disabled with no permissions. */
export async function listStaff(deps: Omit<StaffAdminDeps, 'clock'>): Promise<{ items: StaffUser[] }> {
  const [users, admins, staff] = await Promise.all([deps.pool.list(), deps.pool.members('admin'), deps.pool.members('staff')]);
  const records = await Promise.all(users.map((u) => deps.store.getStaff(u.sub)));
  const items = users.map((u, i) => {
    const roles: StaffRole[] = [...(admins.has(u.username) ? (['admin'] as const) : []), ...(staff.has(u.username) ? (['staff'] as const) : [])];
    return present(u, roles, records[i]);
  });
  items.sort((a, b) => a.username.localeCompare(b.username));
  return { items };
}

function present(user: PoolUser, roles: StaffRole[], record: StaffRecord | undefined): StaffUser {
  return {
    username: user.username,
    ...(user.email ? { email: user.email } : {}),
    roles,
    enabled: user.enabled && !!record?.enabled,
    mfaEnrolled: user.mfaEnrolled,
    permissions: record?.permissions ?? noPermissions,
    createdAt: record?.createdAt ?? user.createdAt,
  };
}

/** GET /staff/me. */
export async function staffMe(deps: Omit<StaffAdminDeps, 'clock'>, caller: StaffCaller & { roles: StaffRole[] }): Promise<StaffMe> {
  const [record, user] = await Promise.all([deps.store.getStaff(caller.sub), deps.pool.find(caller.id)]);
  return {
    username: caller.id,
    roles: caller.roles,
    permissions: record?.permissions ?? noPermissions,
    mfaEnrolled: user?.mfaEnrolled ?? false,
  };
}

const selfChange = (what: string) =>
  new DomainError('conflict', 'own-account', `You cannot ${what} your own account. Ask another admin to do it.`);

/**
 * PUT /staff/{staffId}: enable, disable or change the role. Disabling writes the cut-off first
 * (that is what refuses the user's tokens), then disables the login and ends its refresh tokens
 * in the pool; enabling turns the login on first and the record last, so a failure half-way
 * leaves the user out rather than in. Enabling a login that has no record (made outside this
 * API) gives it one with the default permissions. An admin cannot disable or demote themselves.
 */
export async function changeStaff(deps: StaffAdminDeps, actor: StaffCaller, staffId: string, change: StaffChange): Promise<StaffUser> {
  const user = await resolveStaff(deps.pool, staffId);
  const self = user.sub === actor.sub;
  if (self && change.enabled === false) throw selfChange('disable');
  if (self && change.role === 'staff') throw selfChange('remove the admin role from');

  if (change.enabled === true) await deps.pool.setEnabled(user.username, true);
  if (change.role) await deps.pool.setRole(user.username, change.role);

  const record = await retryOnConflict(async () => {
    const now = deps.clock();
    const stored = await deps.store.getStaff(user.sub);
    if (!stored && change.enabled !== true) {
      throw new DomainError('conflict', 'no-staff-record', 'This login has no staff record yet: enable it first.');
    }
    const roles = change.role ? [change.role] : (stored?.roles ?? (await deps.pool.rolesOf(user.username)));
    const current = stored ?? { ...newStaffRecord(user, roles[0] ?? 'staff', now), enabled: false, version: 0 };
    const next: StaffRecord = { ...current, roles, updatedAt: now.toISOString(), version: current.version + 1 };
    const fields: string[] = [];
    if (change.enabled !== undefined && change.enabled !== current.enabled) {
      next.enabled = change.enabled;
      fields.push('enabled');
      // Rule 30: every token from before now, this second included, is refused from here on.
      if (!change.enabled) next.sessionsValidFrom = ceilSeconds(now);
    }
    if (change.role && !(current.roles.length === 1 && current.roles[0] === change.role)) fields.push('role');
    if (stored && fields.length === 0) return stored;
    const action = change.enabled === false ? 'staff.disabled' : fields.includes('enabled') ? 'staff.enabled' : 'staff.updated';
    await deps.store.saveStaff(next, current.version, staffAudit(actor, user, action, now, { fields, ...(change.role ? { role: change.role } : {}) }));
    return next;
  });

  if (change.enabled === false) {
    await deps.pool.setEnabled(user.username, false);
    await deps.pool.signOutEverywhere(user.username);
  }
  return present({ ...user, enabled: change.enabled ?? user.enabled }, record.roles, record);
}

/**
 * POST /staff/{staffId}/mfa-reset: a lost authenticator. Every session ends (the same cut-off as
 * disabling: whoever holds the lost phone and a token is out), the record notes when, audited;
 * then the pool forgets the TOTP factor (the next sign-in answers MFA_SETUP) and ends the refresh
 * tokens. The record first, as when disabling: a failure half-way leaves the user out (sessions
 * ended, factor still there) rather than the factor gone with the old sessions still accepted;
 * the admin's retry writes a new cut-off and finishes the pool steps (both safe to repeat).
 */
export async function resetStaffMfa(deps: StaffAdminDeps, actor: StaffCaller, staffId: string): Promise<StaffUser> {
  const user = await resolveStaff(deps.pool, staffId);
  const record = await retryOnConflict(async () => {
    const now = deps.clock();
    const stored = await deps.store.getStaff(user.sub);
    if (!stored) throw new DomainError('conflict', 'no-staff-record', 'This login has no staff record yet: enable it first.');
    const next: StaffRecord = { ...stored, mfaResetAt: now.toISOString(), sessionsValidFrom: ceilSeconds(now), updatedAt: now.toISOString(), version: stored.version + 1 };
    await deps.store.saveStaff(next, stored.version, staffAudit(actor, user, 'staff.mfa-reset', now));
    return next;
  });
  await deps.pool.resetMfa(user.username);
  await deps.pool.signOutEverywhere(user.username);
  return present({ ...user, mfaEnrolled: false }, record.roles, record);
}

/** GET /staff/{staffId}/permissions: a login without a record has none. */
export async function readStaffPermissions(deps: { store: RecordStore; pool: Pick<StaffPool, 'find'> }, staffId: string): Promise<StaffPermissions> {
  const user = await resolveStaff(deps.pool, staffId);
  return (await deps.store.getStaff(user.sub))?.permissions ?? noPermissions;
}

/** PUT /staff/{staffId}/permissions: on the record of the login the name resolves to (any case). */
export async function changeStaffPermissions(
  deps: { store: RecordStore; pool: Pick<StaffPool, 'find'>; clock: Clock },
  actor: Actor,
  staffId: string,
  change: StaffPermissionsChange,
): Promise<StaffPermissions> {
  const user = await resolveStaff(deps.pool, staffId);
  return retryOnConflict(async () => {
    const stored = await deps.store.getStaff(user.sub);
    if (!stored) throw new DomainError('conflict', 'no-staff-record', 'This login has no staff record yet: enable it first.');
    const next = { ...stored.permissions, ...change };
    const fields = (Object.keys(change) as (keyof StaffPermissions)[]).filter((k) => stored.permissions[k] !== next[k]);
    if (fields.length === 0) return stored.permissions;
    const now = deps.clock();
    const record: StaffRecord = { ...stored, permissions: next, updatedAt: now.toISOString(), version: stored.version + 1 };
    await deps.store.saveStaff(record, stored.version, staffAudit(actor, user, 'staff-permissions.updated', now, { fields }));
    return next;
  });
}

/**
 * The local stack's seeded users (and any login that should have a record): gives the login a
 * record when it has none; leaves an existing one as it is. Not audited as anyone's change:
 * the actor is the seeding itself.
 */
export async function ensureStaffRecord(deps: StaffAdminDeps, actor: Actor, username: string, role: StaffRole): Promise<StaffRecord> {
  const user = await resolveStaff(deps.pool, username);
  const stored = await deps.store.getStaff(user.sub);
  if (stored) return stored;
  const now = deps.clock();
  const record = newStaffRecord(user, role, now);
  try {
    await deps.store.saveStaff(record, 0, staffAudit(actor, user, 'staff.created', now, { role }));
  } catch (err) {
    if (err instanceof DomainError && err.code === 'version-conflict') return (await deps.store.getStaff(user.sub)) ?? record;
    throw err;
  }
  return record;
}

/** The claims of a token the pool just issued to us (already trusted: it came from the pool, not a caller). */
function claimsOf(jwt: string): { sub?: unknown; auth_time?: unknown; iat?: unknown } {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
  } catch {
    return {};
  }
}

/**
 * Staff sign-in (lambdas/domain/staff-sign-in.ts): tokens the pool just issued are handed out
 * only when the login's record lets them be used (cognito-local lets a disabled user sign in).
 * Answers the reason a refused sign-in is audited with, or undefined when it may go ahead.
 */
export async function staffSignInRefusal(store: Pick<RecordStore, 'getStaff'>, accessToken: string): Promise<string | undefined> {
  const claims = claimsOf(accessToken);
  if (typeof claims.sub !== 'string') return 'no-staff-record';
  const record = await store.getStaff(claims.sub);
  if (!record) return 'no-staff-record';
  if (!record.enabled) return 'disabled';
  return undefined;
}
