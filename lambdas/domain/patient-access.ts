/**
 * Staff-side actions on a patient's login: "Register Patient" with a temporary password, and
 * revoke. Patient-side: the account view and credential changes.
 *
 * Cognito is written first and the record second, so the record never claims a login the pool
 * does not have; if the record write fails, a login this call created is removed again, and a
 * retry of the whole request completes the work.
 */
import { randomUUID } from 'node:crypto';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError, notFound, retryOnConflict, versionConflict } from './errors.ts';
import { passwordProblems } from './password-policy.ts';
import { badPassword, patientSignInRefused, type Tokens } from './patient-sign-in.ts';
import type { AccountStore, Clock, PatientLogins, RecordStore, RegisterLeaseStore } from './ports.ts';
import { firstLoginStamp, present, revokeSessionsAndLinks, type StoredRecord } from './portal-record.ts';
import type { PortalRecord } from '../schemas/portal-record.ts';
import { readableSecret, temporaryPassword } from './secrets.ts';
import { accountThrottleKey, accountWaitSeconds, throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';
import { requireInvitePermission } from './permissions.ts';
import { credentialsChangedEmail } from '../mail/templates.ts';
import type { Mailer } from './invitations.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';

export interface PatientAccessDeps {
  store: RecordStore;
  accounts: AccountStore;
  logins: PatientLogins;
  throttle: ThrottleStore;
  clock: Clock;
}

/** A credential change also emails the patient a notice (rule 15). */
export interface CredentialChangeDeps extends PatientAccessDeps {
  mailer: Mailer;
  settingsDefaults: SettingsDefaults;
  warn?: (message: string, fields: Record<string, string>) => void;
}


const usernameTakenError = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

/** The login name Register Patient gives: the patient's own, else the case number, else the patientId. */
function defaultUsername(record: StoredRecord, attempt: number): string {
  const base = (record.username ?? record.masterCase ?? record.patientId).toLowerCase().replace(/[^a-z0-9._@+-]/g, '').padEnd(3, '0').slice(0, 58);
  return attempt === 0 ? base : `${base}-${readableSecret(4).toLowerCase()}`;
}

/** Longer than a function may run (10 s): a lease outlives only a crashed attempt, briefly. */
const REGISTER_LEASE_SECONDS = 30;

const registerInProgress = () =>
  new DomainError('conflict', 'registration-in-progress', 'Register Patient is under way or was just done for this patient. Read the record again before trying again.');

/**
 * Register Patient. The lease comes first: of concurrent requests one sets the temporary
 * password and the rest answer 409, so the password handed to staff is the one that works.
 */
export async function registerWithTemporaryPassword(
  deps: PatientAccessDeps & { leases: RegisterLeaseStore },
  actor: Actor,
  patientId: string,
  temporaryPasswordHours: number,
): Promise<{ username: string; temporaryPassword: string; expiresAt: string; record: PortalRecord }> {
  const secret = temporaryPassword();
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await retryOnConflict(async () => {
        const now = deps.clock();
        const record = await deps.store.getRecord(patientId);
        if (!record) throw notFound('The portal record');
        if (!record.accessEnabled) throw accessOff();
        const accountId = record.accountId ?? randomUUID();
        const username = record.username ?? defaultUsername(record, attempt);
        const expiresAt = new Date(now.getTime() + temporaryPasswordHours * 3_600_000).toISOString();
        if (record.registerLease && Date.parse(record.registerLease.until) > now.getTime()) throw registerInProgress();
        const lease = { id: randomUUID(), until: new Date(now.getTime() + REGISTER_LEASE_SECONDS * 1000).toISOString() };
        const taken = await deps.leases.takeRegisterLease(patientId, record.version, lease, now).catch(async (err: unknown) => {
          // Its answer may be lost with the lease taken all the same: let go of it, or a retry waits it out.
          await deps.leases.releaseRegisterLease(patientId, lease.id).catch(() => undefined);
          throw err;
        });
        if (!taken) {
          // Another Register Patient holds the lease or has finished since our read: this one is a
          // duplicate. Anything else (a staff edit) moved the version: read again and go on.
          const fresh = await deps.store.getRecord(patientId);
          const held = fresh?.registerLease !== undefined && Date.parse(fresh.registerLease.until) > now.getTime();
          const issuedSince = fresh?.login?.temporaryPasswordExpiresAt !== record.login?.temporaryPasswordExpiresAt;
          throw held || issuedSince ? registerInProgress() : versionConflict();
        }
        const { registerLease: _held, ...unleased } = record;
        // The record write that finishes the work puts the item without the lease.
        const next: StoredRecord = {
          ...unleased,
          accountId,
          username,
          registration: 'ForcedRegistration',
          ...firstLoginStamp(record, now),
          login: { mustChangePassword: true, temporaryPasswordExpiresAt: expiresAt },
          // Every session and pending link from before ends: the old password is gone, and a pending
          // invitation's link with it, so the record no longer reads "Invite".
          ...revokeSessionsAndLinks(record, now.toISOString()),
          invite: record.invite.status === 'Pending' || record.invite.status === 'Locked' ? { ...record.invite, status: 'Cancelled' } : record.invite,
          updatedAt: now.toISOString(),
          version: record.version + 1,
        };
        try {
          const { created } = await deps.logins.upsert(accountId, secret);
          await deps.accounts.saveLogin(
            next,
            record.version,
            auditEvent(actor, patientTarget(patientId), 'patient.registered-with-temporary-password', now, { newLogin: created }),
            { claim: username },
          );
        } catch (err) {
          // An unknown outcome (not one of ours) may be a save that was done with only its answer lost.
          const saved =
            !(err instanceof DomainError) &&
            (await deps.store.getRecord(patientId).then((r) => r?.accountId === accountId && r.updatedAt === next.updatedAt, () => false));
          if (!saved) {
            // A login made for a record that had none goes again, however far its making got (an
            // AdminCreateUser whose answer was lost included): never a login without a record.
            if (!record.accountId) await deps.logins.remove(accountId);
            await deps.leases.releaseRegisterLease(patientId, lease.id).catch(() => undefined);
            throw err;
          }
        }
        await deps.logins.signOutEverywhere(accountId);
        // The new password starts with a clean slate: no wait or lock from the old one's guesses.
        await deps.throttle.clearAccount(accountThrottleKey('patient', username));
        return { username, temporaryPassword: secret, expiresAt, record: present(next, now) };
      });
    } catch (err) {
      // The default username belongs to someone else: try a suffixed one.
      if (!(err instanceof DomainError && err.code === 'username-taken')) throw err;
    }
  }
  throw usernameTakenError();
}

const accessOff = () =>
  new DomainError('conflict', 'access-disabled', 'Portal access is turned off for this patient. Turn access on in the record first, then register the patient.');

/**
 * "Clear the lock" (issue 15): after the front desk checked who is calling, staff with invite
 * permission clear the sign-in waits and lock of this patient's login. Audited first, then
 * cleared, so the clearing never happens without its audit entry; safe to repeat.
 */
export async function clearSignInLock(deps: Pick<PatientAccessDeps, 'store' | 'throttle' | 'clock'>, actor: Actor, patientId: string): Promise<PortalRecord> {
  requireInvitePermission(actor);
  const now = deps.clock();
  const record = await deps.store.getRecord(patientId);
  if (!record) throw notFound('The portal record');
  if (record.username) {
    const key = accountThrottleKey('patient', record.username);
    const { account } = await deps.throttle.read(key, 'unlock');
    await deps.store.appendAudit(
      auditEvent(actor, patientTarget(patientId), 'patient.sign-in-lock-cleared', now, {
        failures: account?.failures ?? 0,
        wasLocked: accountWaitSeconds(account, now) === Infinity,
      }),
    );
    await deps.throttle.clearAccount(key);
  } else {
    await deps.store.appendAudit(auditEvent(actor, patientTarget(patientId), 'patient.sign-in-lock-cleared', now, { failures: 0, wasLocked: false, noLogin: true }));
  }
  return present(record, now);
}

/**
 * Revoke (security rule 17): the record is disabled and stamped, the login disabled and signed
 * out everywhere; every token, lobby session and link checked against the record dies at once.
 */
export async function revokeAccess(deps: PatientAccessDeps, actor: Actor, patientId: string): Promise<PortalRecord> {
  const record = await retryOnConflict(async () => {
    const now = deps.clock();
    const current = await deps.store.getRecord(patientId);
    if (!current) throw notFound('The portal record');
    const next: StoredRecord = {
      ...current,
      accessEnabled: false,
      ...revokeSessionsAndLinks(current, now.toISOString()),
      invite: current.invite.status === 'Pending' ? { ...current.invite, status: 'Cancelled' } : current.invite,
      updatedAt: now.toISOString(),
      version: current.version + 1,
    };
    await deps.store.saveRecord(next, current.version, auditEvent(actor, patientTarget(patientId), 'patient.access-revoked', now, {}));
    return next;
  });
  if (record.accountId) {
    await deps.logins.setEnabled(record.accountId, false);
    await deps.logins.signOutEverywhere(record.accountId);
  }
  return present(record, deps.clock());
}

/** Keeps the pool's enabled flag in step with the record after a staff edit (idempotent). */
export async function syncLoginEnabled(deps: Pick<PatientAccessDeps, 'logins'>, record: PortalRecord): Promise<void> {
  if (record.accountId) await deps.logins.setEnabled(record.accountId, record.accessEnabled);
}

export function accountView(record: StoredRecord) {
  return {
    accountId: record.accountId!,
    username: record.username ?? '',
    ...(record.email ? { email: record.email } : {}),
    cases: record.cases,
  };
}

/**
 * A signed-in patient changes password and/or username, proving the current password. Every
 * other session ends: the record's generation is bumped (rule 17), so every earlier token is
 * refused, and the caller gets fresh tokens minted after the bump.
 */
export async function changeCredentials(
  deps: CredentialChangeDeps,
  patient: { accountId: string; patientId: string; sourceIp: string },
  change: { currentPassword: string; newPassword?: string; newUsername?: string },
): Promise<Tokens> {
  const record = await deps.store.getRecord(patient.patientId);
  if (!record || record.accountId !== patient.accountId) throw patientSignInRefused();
  // Guessing the current password with a stolen token counts like any failed sign-in.
  const keys = throttleKeys('patient', record.username ?? patient.accountId, patient.sourceIp, deps.clock());
  // A retry after a failure midway may find the new password already set: knowing it proves as
  // much as knowing the old one, and the retry then completes the change (rule 24). It is a
  // second guess, so it is a second counted attempt (rule 5): a stolen token buys no extra tries.
  const isRefusal = (err: unknown) => err instanceof DomainError && err.code === 'invalid-credentials';
  const prove = (password: string) => throttledSignIn(deps, keys, () => deps.logins.signIn(patient.accountId, password), { reserve: true });
  await prove(change.currentPassword)
    .catch(async (err: unknown) => {
      if (change.newPassword === undefined || !isRefusal(err)) throw err;
      await prove(change.newPassword).catch((second: unknown) => {
        throw isRefusal(second) ? err : second;
      });
    })
    .catch((err: unknown) => {
      if (isRefusal(err)) {
        throw new DomainError('unauthorized', 'invalid-credentials', 'The current password is not right.', {
          errors: [{ path: 'body.currentPassword', message: 'is not your current password' }],
        });
      }
      throw err;
    });
  const username = change.newUsername ?? record.username ?? '';
  const password = change.newPassword ?? change.currentPassword;
  if (change.newPassword !== undefined || change.newUsername !== undefined) {
    const problems = passwordProblems(password, { username, ...(record.email ? { email: record.email } : {}) });
    if (problems.length > 0) throw badPassword(problems, change.newPassword !== undefined ? 'body.newPassword' : 'body.newUsername');
  }
  if (change.newUsername && change.newUsername.toLowerCase() !== record.username?.toLowerCase()) {
    const holder = await deps.accounts.findByUsername(change.newUsername);
    if (holder && holder.accountId !== patient.accountId) throw usernameTakenError();
  }
  if (change.newPassword !== undefined) await deps.logins.setPassword(patient.accountId, change.newPassword);
  await deps.logins.signOutEverywhere(patient.accountId);
  const now = deps.clock();
  // The notice (rule 15), without any secret. Best effort: the change is done either way.
  const notify = async () => {
    if (!record.email) return;
    try {
      const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
      await deps.mailer.send({ to: record.email, ...credentialsChangedEmail({ practiceName: settings.practiceName, at: now.toISOString(), how: 'account-page', changed: { password: change.newPassword !== undefined, username: change.newUsername !== undefined } }) });
    } catch (err) {
      deps.warn?.('credentials-changed notice failed', { errorName: err instanceof Error ? err.name : 'unknown' });
      await deps.store
        .appendAudit(auditEvent({ id: `patient:${patient.accountId}`, sourceIp: patient.sourceIp }, patientTarget(patient.patientId), 'patient.credentials-notice-failed', deps.clock(), {}, 'failure'))
        .catch(() => undefined);
    }
  };
  try {
    await retryOnConflict(async () => {
      const current = (await deps.store.getRecord(patient.patientId))!;
      const next: StoredRecord = {
        ...current,
        username,
        ...revokeSessionsAndLinks(current, now.toISOString()),
        updatedAt: now.toISOString(),
        version: current.version + 1,
      };
      await deps.accounts.saveLogin(
        next,
        current.version,
        auditEvent({ id: `patient:${patient.accountId}`, sourceIp: patient.sourceIp }, patientTarget(patient.patientId), 'patient.credentials-changed', now, {
          passwordChanged: change.newPassword !== undefined,
          usernameChanged: username !== current.username,
        }),
        { claim: username, ...(current.username ? { release: current.username } : {}) },
      );
    });
  } catch (err) {
    // The password is already changed at Cognito, so the owner must hear of it whatever became
    // of our commit. A commit done with only its answer lost stamps the record, which refuses
    // the caller's old token: the caller's retry (401) can never send the notice, so it goes now.
    // A retry that does get through sends a second one; two notices beat none.
    if (change.newPassword !== undefined) await notify();
    throw err;
  }
  await notify();
  // Rule 17: the caller's fresh tokens are minted after the commit that bumped the generation, so
  // they carry the new one (every earlier token, the caller's own included, carries an older one).
  const fresh = await deps.logins.signIn(patient.accountId, password);
  if (fresh.kind !== 'tokens') throw new Error('no tokens after a credential change');
  return fresh;
}
