/**
 * Invitations, patient side: look a link up (POST /invitations/lookup) and register with it
 * (POST /registrations). Security rules 3, 7, 9, 10, 11, 13, 18, 24, 25.
 *
 * Registration, step by step, each safe to repeat:
 *   1. The link: its hash must name a pending, unexpired, unlocked invitation of a record with
 *      access enabled; anything else is the one 410 (rule 11). Dead links count against the
 *      source address (rule 6).
 *   2. The PIN: a try is reserved first (conditional write: at most 5 reserved-and-wrong or in
 *      flight, rule 5), then the PIN is compared in constant time against the opened seal. A
 *      wrong one counts (atomic counter, the try kept); the 5th locks the invitation and kills the
 *      link (rule 7). A right one gives its try back. Throttled per address too.
 *   3. The password rules and a first look at the username (409 before anything is written).
 *   4. The lease: one registration at a time per invitation (20 at once: one goes on, the rest
 *      get 409 "in progress", or 410 once it has finished). The lease fixes the accountId on
 *      the invitation before Cognito is called, so a retry after any failure creates or
 *      updates the same login and never a second one.
 *   5. Cognito: create the login (username = accountId) or set its password if a failed
 *      attempt already created it.
 *   6. One transaction: the record registered, the invitation Accepted, the link deleted, the
 *      accountId linked, the username claimed, the audit entry. If it definitely fails (the
 *      username was taken meanwhile, or staff cancelled), the login from step 5 is removed and
 *      the lease let go; if its outcome is unknown, nothing is undone and a retry completes it.
 */
import { randomUUID } from 'node:crypto';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError, retryOnConflict, versionConflict } from './errors.ts';
import { hashToken, isLive, MAX_PIN_FAILURES, pinsEqual, type InvitationStore, type LeaseResult, type PinVault, type StoredInvitation } from './invitations.ts';
import { passwordProblems } from './password-policy.ts';
import { linksStillLive, type StoredRecord } from './portal-record.ts';
import type { AccountStore, Clock, PatientLogins, RecordStore } from './ports.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import { requireAddressUnderLimit, throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';
// Rule 31: Cognito's own refusal of a password, mapped to this request's field.
import { isPasswordRefusal, passwordRefusedByPool } from './password-policy.ts';

/** Longer than a function may run (10 s), so a lease outlives only a crashed attempt, briefly. */
export const LEASE_SECONDS = 30;

/** The one answer for an expired, cancelled, used, locked or unknown link (rule 11). */
export const linkGone = () =>
  new DomainError('gone', 'invitation-gone', 'This invitation link no longer works. Ask the practice to send you a new one.');

const wrongPin = (locked: boolean) =>
  new DomainError(
    'unauthorized',
    'wrong-pin',
    locked
      ? 'The PIN is not right. After too many wrong PINs this link no longer works: ask the practice to send you a new one.'
      : 'The PIN is not right. Check the PIN the practice gave you and try again.',
  );

const inProgress = () =>
  new DomainError('conflict', 'registration-in-progress', 'A registration with this link is already under way. Wait a moment, then try again.');

const usernameTaken = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

/** What throttledSignIn counts as a failure; turned into the real answer right after. */
const refusal = () => new DomainError('unauthorized', 'invalid-credentials', 'refused');
const isRefusal = (err: unknown) => err instanceof DomainError && err.code === 'invalid-credentials';

const anonymous = (sourceIp: string): Actor => ({ id: 'anonymous', sourceIp });

export interface LinkDeps {
  store: RecordStore;
  invitations: InvitationStore;
  throttle: ThrottleStore;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
}

export interface RegistrationDeps extends LinkDeps {
  accounts: Pick<AccountStore, 'findByUsername'>;
  logins: Pick<PatientLogins, 'upsert' | 'remove'>;
  vault: PinVault;
}

interface LiveLink {
  tokenHash: string;
  invitation: StoredInvitation & { sealedPin: string };
  record: StoredRecord;
}

/**
 * Step 1: the invitation behind a token. Guessing tokens is limited per source address (rule 6):
 * every dead link counts, and past the limit the answer is 429. There is no per-token limit on
 * the link itself (a 256-bit token is not guessed by retrying it, and a used link must keep
 * answering its 410, not a 429); the per-token limit is on the PIN (step 2). Throws the one 410
 * for any dead link.
 */
async function openLink(deps: LinkDeps, token: string, sourceIp: string): Promise<LiveLink> {
  const now = deps.clock();
  const tokenHash = hashToken(token);
  const keys = throttleKeys('invitation', `link:${tokenHash}`, sourceIp, now);
  const { addressFailures } = await deps.throttle.read(keys.accountKey, keys.addressKey);
  requireAddressUnderLimit(addressFailures, now);
  const link = await deps.invitations.findLink(tokenHash);
  const [invitation, record] = link
    ? await Promise.all([deps.invitations.getInvitation(link.patientId), deps.store.getRecord(link.patientId)])
    : [undefined, undefined];
  const valid =
    link !== undefined &&
    isLive(invitation, record, now) &&
    invitation.invitationId === link.invitationId &&
    invitation.tokenHash === tokenHash &&
    record !== undefined &&
    record.accessEnabled &&
    !record.accountId;
  if (!valid) {
    await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
    throw linkGone();
  }
  return { tokenHash, invitation, record };
}

/** POST /invitations/lookup (the token in the body, rule 26). */
export async function checkInvitation(
  deps: LinkDeps,
  token: string,
  sourceIp: string,
): Promise<{ practiceName: string; expiresAt: string; needs: ['pin']; kind: 'patient' }> {
  const { invitation } = await openLink(deps, token, sourceIp);
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  return { practiceName: settings.practiceName, expiresAt: invitation.expiresAt, needs: ['pin'], kind: 'patient' };
}

export interface RegistrationAttempt {
  token: string;
  pin: string;
  username: string;
  password: string;
  sourceIp: string;
}

/** POST /registrations. */
export async function register(deps: RegistrationDeps, attempt: RegistrationAttempt): Promise<{ accountId: string; username: string }> {
  const { token, pin, username, password, sourceIp } = attempt;
  const live = await openLink(deps, token, sourceIp);
  const { invitation, tokenHash } = live;
  const patientId = invitation.patientId;

  // Step 2: the PIN. The try is reserved before the PIN is compared (rule 5, as sign-in does), so
  // a burst of guesses gets at most MAX_PIN_FAILURES comparisons; a right PIN gives it back.
  const reserved = await deps.invitations.reservePinTry(patientId, invitation.invitationId).catch(async (err: unknown) => {
    // Reserved all the same with only the answer lost? Give it back, or a retry finds one try fewer.
    await deps.invitations.releasePinTry(patientId, invitation.invitationId).catch(() => undefined);
    throw err;
  });
  if (reserved === 'gone') throw linkGone();
  if (reserved === 'busy') throw inProgress();
  const pinKeys = throttleKeys('invitation', `pin:${tokenHash}`, sourceIp, deps.clock());
  let wrong = false;
  try {
    await throttledSignIn(deps, pinKeys, async () => {
      const expected = await deps.vault.open(invitation.sealedPin, { patientId, invitationId: invitation.invitationId });
      if (!pinsEqual(expected, pin)) throw refusal();
    });
  } catch (err) {
    if (!isRefusal(err)) throw err;
    wrong = true;
    throw wrongPin(await countWrongPin(deps, invitation, sourceIp));
  } finally {
    // A wrong PIN keeps its try (it is counted); anything else gives it back.
    if (!wrong) await deps.invitations.releasePinTry(patientId, invitation.invitationId).catch(() => undefined);
  }

  // Step 3: the password (rule 3, with the reason in words) and the username.
  const problems = passwordProblems(password, { username, ...(live.record.email ? { email: live.record.email } : {}) });
  if (problems.length > 0) {
    throw new DomainError('bad-request', 'validation-error', 'The password cannot be used.', {
      errors: problems.map((message) => ({ path: 'body.password', message })),
    });
  }
  if (await deps.accounts.findByUsername(username)) throw usernameTaken();

  // Steps 4-6.
  return finishRegistration(deps, {
    leases: deps.invitations,
    invitation,
    tokenHash,
    username,
    password,
    sourceIp,
    method: 'invitation',
    accept: (record) => {
      if (!record || record.accountId || !record.accessEnabled || record.invite.status !== 'Pending') throw linkGone();
      // Rule 29: an email change or access off since the link was issued (also if undone since).
      if (!linksStillLive(invitation.linkGeneration, record)) throw linkGone();
      return { ...record, invite: { ...record.invite, status: 'Accepted' } };
    },
  });
}

/** What steps 4-6 need to know about the link being redeemed; shared with the email-match method (email-match.ts). */
export interface LeasedRegistration {
  /** Where the lease, the accountId and the one-transaction commit live (invitations, or email-match links). */
  leases: Pick<InvitationStore, 'takeLease' | 'releaseLease' | 'completeRegistration'>;
  invitation: StoredInvitation;
  tokenHash: string;
  username: string;
  password: string;
  sourceIp: string;
  /** Written into the audit entry. */
  method: 'invitation' | 'email-match';
  /**
   * The record as read again just before the commit: throw the link's 410 when it no longer
   * qualifies, else return it with this method's own changes (accountId, username, registration
   * and version are set here).
   */
  accept: (record: StoredRecord | undefined, at: Date) => StoredRecord;
}

/**
 * Steps 4-6: the lease (and with it the accountId), the login, and the one transaction. Throws
 * `registration-in-progress` (409) while another request holds the lease, `invitation-gone`
 * (410) when the link died meanwhile, `username-taken` (409).
 */
export async function finishRegistration(
  deps: Pick<RegistrationDeps, 'store' | 'logins' | 'clock'>,
  reg: LeasedRegistration,
): Promise<{ accountId: string; username: string }> {
  const { leases, invitation, tokenHash, username, password, sourceIp } = reg;
  const patientId = invitation.patientId;
  // Step 4: the lease, and with it the accountId.
  const now = deps.clock();
  const lease = { id: randomUUID(), until: new Date(now.getTime() + LEASE_SECONDS * 1000).toISOString() };
  let taken: LeaseResult;
  try {
    taken = await leases.takeLease(patientId, invitation.invitationId, tokenHash, lease, randomUUID(), now);
  } catch (err) {
    // The lease may be taken all the same (an answer lost on the way back): let go of it, or the
    // retry would wait out LEASE_SECONDS behind its own earlier attempt.
    await leases.releaseLease(patientId, lease.id).catch(() => undefined);
    throw err;
  }
  if (taken.kind === 'held') throw inProgress();
  if (taken.kind === 'gone') throw linkGone();
  const accountId = taken.invitation.accountId!;

  let loginMade = false;
  try {
    // Step 5: the login. Safe to repeat: the same accountId every time.
    await deps.logins.upsert(accountId, password).catch((err: unknown) => {
      // Cognito refused a password our rules accepted (rule 31): this request's field is `password`.
      throw isPasswordRefusal(err) ? passwordRefusedByPool('body.password') : err;
    });
    loginMade = true;
    // Step 6: everything else, at once.
    await retryOnConflict(async () => {
      const at = deps.clock();
      const record = await deps.store.getRecord(patientId);
      const { login: _login, ...rest } = reg.accept(record, at);
      const next: StoredRecord = {
        ...rest,
        accountId,
        username,
        registration: 'NormalRegistration',
        updatedAt: at.toISOString(),
        version: record!.version + 1,
      };
      const { tokenHash: _hash, sealedPin: _pin, lease: _lease, ...kept } = taken.invitation;
      await leases.completeRegistration({
        record: { next, expectedVersion: record!.version },
        invitation: { ...kept, status: 'Accepted', version: taken.invitation.version + 1 },
        leaseId: lease.id,
        tokenHash,
        username,
        audit: auditEvent({ id: accountId, sourceIp }, patientTarget(patientId), 'registration.completed', at, { method: reg.method }),
      });
    });
  } catch (err) {
    const definite = err instanceof DomainError && (err.code === 'username-taken' || err.code === 'invitation-gone');
    // The commit may be done with only its answer lost: then the record names this login, the
    // link is gone, and this request is the only one that can still say it succeeded.
    if (!definite && loginMade && (await deps.store.getRecord(patientId).then((r) => r?.accountId === accountId, () => false))) {
      return { accountId, username };
    }
    // Undo only what surely will not be used: after an unknown outcome a retry completes it.
    if (definite && loginMade) await deps.logins.remove(accountId).catch(() => undefined);
    await leases.releaseLease(patientId, lease.id).catch(() => undefined);
    throw err;
  }
  return { accountId, username };
}

/** Counts a wrong PIN; the 5th locks the invitation and kills its link. True when it is now locked. */
async function countWrongPin(deps: RegistrationDeps, invitation: StoredInvitation, sourceIp: string): Promise<boolean> {
  const { patientId, invitationId } = invitation;
  const failures = await deps.invitations.countPinFailure(patientId, invitationId);
  const locked = failures !== undefined && failures >= MAX_PIN_FAILURES;
  const at = deps.clock();
  await deps.store.appendAudit(
    auditEvent(anonymous(sourceIp), patientTarget(patientId), 'registration.wrong-pin', at, { failures: failures ?? MAX_PIN_FAILURES }, 'failure'),
  );
  if (locked) await lock(deps, patientId, invitationId, sourceIp);
  return locked;
}

/**
 * Marks the record and the invitation Locked and deletes the link. Until this commits, the
 * counter alone already makes the link dead (isLive), so a crash here leaves no working link.
 */
async function lock(deps: RegistrationDeps, patientId: string, invitationId: string, sourceIp: string): Promise<void> {
  await retryOnConflict(async () => {
    const now = deps.clock();
    const [record, current] = await Promise.all([deps.store.getRecord(patientId), deps.invitations.getInvitation(patientId)]);
    if (!record || current?.invitationId !== invitationId || current.status !== 'Pending') return;
    const next: StoredRecord = { ...record, invite: { ...record.invite, status: 'Locked' }, updatedAt: now.toISOString(), version: record.version + 1 };
    const { tokenHash, lease: _lease, ...kept } = current;
    try {
      await deps.invitations.commit({
        record: { next, expectedVersion: record.version },
        invitation: { next: { ...kept, status: 'Locked', version: current.version + 1 }, expectedVersion: current.version },
        ...(tokenHash ? { deleteLink: tokenHash } : {}),
        audit: auditEvent(anonymous(sourceIp), patientTarget(patientId), 'invitation.locked', now, { failures: current.pinFailures }, 'failure'),
      });
    } catch (err) {
      // Another wrong PIN locked it first, or staff acted: read again and see.
      if (err instanceof DomainError && err.code === 'invitation-conflict') throw versionConflict();
      throw err;
    }
  });
}
