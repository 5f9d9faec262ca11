/**
 * Credential reset (issue 4): a patient (or staff for them) asks for a reset; one email carries
 * a one-time link and a 6-character PIN; the patient types the PIN and the current username
 * again, and chooses a new password (and optionally a new username). Security rules 3, 5, 7, 8,
 * 9, 10, 11, 12, 13, 14, 15, 18, 20, 24, 25.
 *
 * State, per patient, always replaced or changed in one transaction:
 *   - the reset (one per patient: the current one): the SHA-256 of the live link's token, the
 *     PIN as a salted scrypt hash (rule 10: "a salted slow hash"; the PIN is never stored or
 *     logged in clear), the wrong-try counters, the times of the last emails (3 per hour), and
 *     the lease of a confirmation in progress;
 *   - the link, one per live token, found by the token's hash; it names the patient and the
 *     reset, so a token can never act on another patient (rule 9).
 * One reset per patient means one live link per patient: a new request replaces the old link,
 * and a completed reset leaves none ("every other outstanding reset link" dies with it).
 *
 * A request never touches the portal record or the sign-in failure counters (rules 7 and 8).
 *
 * Confirmation, step by step, each safe to repeat:
 *   1. The link: a live, unexpired reset of a record with access enabled and the same login;
 *      anything else is the one 410 (rule 11). Dead links count against the source address.
 *   2. A try is reserved atomically (at most 5 reserved-and-wrong or in-flight at once), so 1000
 *      concurrent guesses still get only 5 PIN checks (rule 7). Then PIN and username, both in
 *      constant time; a wrong pair is counted and the 5th kills the link (401 until then). Every
 *      failure up to here has one body whatever the new password is (rule 27).
 *   3. The password rules (400; the try is given back: a typo in the new password wastes no try).
 *      They mention the username and email, so they run only once link + PIN + username are proven.
 *   4. The lease: one completion at a time per reset (20 at once: one 200, rule 25).
 *   5. Cognito: set the password, end every refresh token. The sign-in failure counter is
 *      cleared (a reset is the way out of a lock, rule 5).
 *   6. One transaction: record (new username, `revokedAt`, "must change" cleared), reset Used,
 *      link deleted, username claimed/released, audit entry. A failure before it lets the lease
 *      and the try go, so a retry of the same request completes the reset (rule 24).
 *   7. The "your credentials changed" notice, with no secret (rule 15); no tokens are answered.
 */
import { randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { credentialsChangedEmail, resetEmail } from '../mail/templates.ts';
import type { Settings } from '../schemas/settings.ts';
import { auditEvent, patientTarget, type Actor, type AuditEvent } from './audit.ts';
import { DomainError, notFound, retryOnConflict } from './errors.ts';
import { newPin, type Mailer } from './invitations.ts';
import { passwordProblems } from './password-policy.ts';
import { badPassword } from './patient-sign-in.ts';
import { linkGenerationOf, linksStillLive, revokeSessionsAndLinks, wholeSecond, type StoredRecord } from './portal-record.ts';
import type { AccountStore, Clock, PatientLogins, RecordStore } from './ports.ts';
import { constantTimeEqual, opaqueToken, sha256 } from './secrets.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import { requireAddressUnderLimit, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';

// ------------------------------------------------------------------------------ limits

/** 5 wrong PIN-or-username tries kill the link (rule 7). */
export const MAX_RESET_FAILURES = 5;
/** At most this many reset emails per account per hour; past it a request still answers 202. */
export const MAX_RESET_EMAILS_PER_HOUR = 3;
const HOUR_MS = 60 * 60 * 1000;
/** Longer than a function may run (10 s): a lease outlives only a crashed attempt, briefly. */
export const RESET_LEASE_SECONDS = 30;
/**
 * POST /credential-resets answers no sooner than this after it started, whichever path it took
 * (rule 13). Both paths already do the same reads, the same scrypt and build the same secrets;
 * the floor hides what remains (the transaction and the email of a real request). Chosen well
 * above the real path's time (measured locally ~40-80 ms, AWS SES SendEmail adds ~100 ms).
 */
export const RESET_REQUEST_FLOOR_MS = 300;

// ------------------------------------------------------------------------------ the PIN hash

/**
 * scrypt, N=2^14, r=8, p=1 (16 MiB, tens of ms), 16-byte random salt, 32-byte output. The PIN
 * has ~30 bits, so a fast hash would fall to a table read; scrypt makes each guess cost, and
 * the PIN alone is useless without the link token, which is stored only as SHA-256.
 */
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

const scrypt = (secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCallback(secret, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));

/** How a typed PIN is compared: any case, spaces and dashes ignored. */
export const normalisePin = (pin: string): string => pin.replace(/[\s-]+/g, '').toUpperCase();

export async function hashResetPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(normalisePin(pin), salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function resetPinMatches(pin: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(normalisePin(pin).slice(0, 64), Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// ------------------------------------------------------------------------------ ports

/** The current reset of one patient. Never shown to anyone as it is. */
export interface StoredReset {
  patientId: string;
  /** The login it resets: a reset never acts on a login that replaced it. */
  accountId: string;
  /** New for every request. */
  resetId: string;
  status: 'Pending' | 'Used' | 'Dead';
  /** SHA-256 of the live link's token; absent once no link works. */
  tokenHash?: string;
  /** scrypt hash of the PIN; absent once used or dead. */
  pinHash?: string;
  expiresAt: string;
  /** Wrong PIN-or-username tries of this link. */
  failures: number;
  /** Tries reserved: wrong ones plus those in flight (step 3). */
  tries: number;
  /** When the reset emails of the last hour went out (rate limit). */
  sentAt: string[];
  lease?: { id: string; until: string };
  /** The record's link generation when issued (rules 17, 29): a cut-off, an email change or access off since then kills the link. */
  linkGeneration?: number;
  version: number;
}

export interface ResetLink {
  tokenHash: string;
  patientId: string;
  resetId: string;
  expiresAt: string;
}

export interface ResetIssue {
  next: StoredReset;
  expectedVersion: number;
  putLink?: ResetLink;
  deleteLink?: string;
  audit: AuditEvent;
}

export interface ResetCompletion {
  record: { next: StoredRecord; expectedVersion: number };
  patientId: string;
  resetId: string;
  leaseId: string;
  tokenHash: string;
  /** The username after the reset, claimed for the login (the same one again when unchanged). */
  claim: string;
  /** The username before, released when it changed. */
  release?: string;
  audit: AuditEvent;
}

export type Reservation = 'reserved' | 'busy' | 'gone';
export type LeaseResult = 'taken' | 'held' | 'gone';

export interface ResetStore {
  getReset(patientId: string): Promise<StoredReset | undefined>;
  findLink(tokenHash: string): Promise<ResetLink | undefined>;
  /** Reset (conditional on its version: 0 = must not exist), links and audit entry, all or nothing. Throws `version-conflict`. */
  issue(change: ResetIssue): Promise<void>;
  /** Reserves one try of the pending reset: `busy` when 5 are reserved but fewer than 5 were wrong. */
  reserveTry(patientId: string, resetId: string): Promise<Reservation>;
  /** Gives back a try that turned out right (or never got its answer). */
  releaseTry(patientId: string, resetId: string): Promise<void>;
  /** Counts a wrong try (its reservation stays); the new count, or undefined when no longer that pending reset. */
  countFailure(patientId: string, resetId: string): Promise<number | undefined>;
  /** Kills the link: status Dead, link deleted, with its audit entry. Nothing when it is no longer that pending reset. */
  kill(patientId: string, resetId: string, audit: AuditEvent): Promise<void>;
  takeLease(patientId: string, resetId: string, tokenHash: string, lease: { id: string; until: string }, now: Date): Promise<LeaseResult>;
  releaseLease(patientId: string, leaseId: string): Promise<void>;
  /**
   * The last step, all or nothing: record, reset Used (conditional on the lease), link deleted,
   * account link, username claimed (throws `username-taken`) and released, audit entry.
   * Throws `version-conflict` when the record moved, `reset-gone` when the lease was lost.
   */
  complete(change: ResetCompletion): Promise<void>;
}

// ------------------------------------------------------------------------------ errors

/** The one answer for an expired, used, dead or unknown link (rule 11). */
export const resetGone = () =>
  new DomainError('gone', 'reset-link-gone', 'This reset link no longer works. Ask for a new one on the sign-in page, or call the practice.');

const wrongPinOrUsername = (dead: boolean) =>
  new DomainError(
    'unauthorized',
    'wrong-pin-or-username',
    dead
      ? 'The PIN or the username is not right. After too many wrong tries this link no longer works: ask for a new one.'
      : 'The PIN or the username is not right. Check the PIN in the email and your current username, then try again.',
  );

const resetInProgress = () =>
  new DomainError('conflict', 'reset-in-progress', 'A reset with this link is already under way. Wait a moment, then try again.');

const usernameTaken = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

const notRegistered = () =>
  new DomainError('conflict', 'not-registered', 'This patient has no portal login yet. Send an invitation instead.');

const accessDisabled = () =>
  new DomainError('conflict', 'access-disabled', 'Portal access is disabled for this patient. Enable it before sending a reset.');

const noEmail = () => new DomainError('unprocessable', 'no-email', 'The record has no email address. Add one before sending a reset.');

// ------------------------------------------------------------------------------ requesting

export interface ResetRequestDeps {
  store: RecordStore;
  accounts: Pick<AccountStore, 'findByUsername'>;
  resets: ResetStore;
  mailer: Mailer;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
  /** Where failures are reported (names and outcomes only: never an address, username or secret). */
  warn?: (msg: string, fields: Record<string, string>) => void;
}

/** What the patient sees after asking, whatever happened (rule 13). */
export const resetRequestedMessage =
  'If this username belongs to a portal login with an email address, we have emailed a reset link and PIN. Check your inbox.';

export const resetLink = (portalUrl: string, token: string): string =>
  `${portalUrl.replace(/\/+$/, '')}/portal/reset#token=${encodeURIComponent(token)}`;

/** A patientId no record can have (patient ids are [A-Za-z0-9._-]): the decoy reads of an unknown username. */
const NO_PATIENT = '~none';

interface Secrets {
  token: string;
  pin: string;
  pinHash: string;
}

const newSecrets = async (): Promise<Secrets> => {
  const pin = newPin();
  return { token: opaqueToken(), pin, pinHash: await hashResetPin(pin) };
};

const anonymous = (sourceIp: string): Actor => ({ id: 'anonymous', sourceIp });
const patientActor = (record: StoredRecord, sourceIp: string): Actor => ({ id: `patient:${record.accountId}`, sourceIp });

/**
 * POST /credential-resets. Never throws for anything about the account: a missing, disabled,
 * unregistered or email-less one, a practice with patient resets off, and the 4th request of the
 * hour all end here without an email, and the handler answers the same 202 (rule 13). The same
 * reads and the same secret generation (scrypt included) run on every path.
 */
export async function requestReset(deps: ResetRequestDeps, request: { username: string; sourceIp: string }): Promise<void> {
  const [{ settings }, link] = await Promise.all([readSettings({ store: deps.store, defaults: deps.settingsDefaults }), deps.accounts.findByUsername(request.username)]);
  const patientId = link?.patientId ?? NO_PATIENT;
  const [record, current, secrets] = await Promise.all([deps.store.getRecord(patientId), deps.resets.getReset(patientId), newSecrets()]);
  const now = deps.clock();
  if (!link || !record || record.accountId !== link.accountId) {
    deps.warn?.('reset requested', { outcome: 'no-account' });
    return;
  }
  const refusal = !settings.patientReset
    ? 'patient-reset-off'
    : !record.accessEnabled
      ? 'access-disabled'
      : record.registration === 'NotRegistered'
        ? 'not-registered'
        : !record.email
          ? 'no-email'
          : recentEmails(current, now).length >= MAX_RESET_EMAILS_PER_HOUR
            ? 'rate-limited'
            : undefined;
  if (refusal) {
    await deps.store.appendAudit(
      auditEvent(anonymous(request.sourceIp), patientTarget(record.patientId), 'reset.requested', now, { by: 'patient', emailed: false, reason: refusal }, 'failure'),
    );
    deps.warn?.('reset requested', { outcome: refusal });
    return;
  }
  try {
    const sent = await issueAndSend(deps, anonymous(request.sourceIp), record as StoredRecord & { email: string; accountId: string }, settings, secrets, 'patient', { current });
    if (!sent) {
      await deps.store.appendAudit(
        auditEvent(anonymous(request.sourceIp), patientTarget(record.patientId), 'reset.requested', deps.clock(), { by: 'patient', emailed: false, reason: 'rate-limited' }, 'failure'),
      );
      deps.warn?.('reset requested', { outcome: 'rate-limited' });
    }
  } catch (err) {
    // A crowd of requests for one account that kept losing the race: still the one 202 (rule 13).
    if (!(err instanceof DomainError && err.code === 'version-conflict')) throw err;
    deps.warn?.('reset requested', { outcome: 'conflict' });
  }
}

/**
 * POST /patients/{patientId}/portal/credential-reset: the same email, sent by staff. Not limited
 * by settings.patientReset (that governs self-service) nor by the hourly limit (a deliberate,
 * audited staff action), but it counts towards the patient's hourly limit.
 */
export async function staffReset(deps: ResetRequestDeps, actor: Actor, patientId: string): Promise<{ expiresAt: string; delivery: 'Sent' | 'Failed' }> {
  const [{ settings }, record] = await Promise.all([readSettings({ store: deps.store, defaults: deps.settingsDefaults }), deps.store.getRecord(patientId)]);
  if (!record) throw notFound('The portal record');
  if (!record.accountId || record.registration === 'NotRegistered') throw notRegistered();
  if (!record.accessEnabled) throw accessDisabled();
  if (!record.email) throw noEmail();
  const sent = await issueAndSend(deps, actor, record as StoredRecord & { email: string; accountId: string }, settings, await newSecrets(), 'staff');
  if (!sent) throw new Error('a staff reset is never rate-limited');
  return sent;
}

function recentEmails(reset: StoredReset | undefined, now: Date): string[] {
  return (reset?.sentAt ?? []).filter((at) => now.getTime() - Date.parse(at) < HOUR_MS);
}

/** Commits the new reset (replacing any earlier link), then emails link + PIN. */
async function issueAndSend(
  deps: ResetRequestDeps,
  actor: Actor,
  record: StoredRecord & { email: string; accountId: string },
  settings: Settings,
  secrets: Secrets,
  by: 'patient' | 'staff',
  /** The reset as the caller just read it: the first attempt uses it instead of reading again. */
  known?: { current: StoredReset | undefined },
): Promise<{ expiresAt: string; delivery: 'Sent' | 'Failed' } | undefined> {
  const { patientId } = record;
  const tokenHash = sha256(secrets.token);
  let first = known;
  const issued = await retryOnConflict(async () => {
    const now = deps.clock();
    // The write is conditional on this version, so a stale first read only costs a retry, which reads afresh.
    const current = first ? first.current : await deps.resets.getReset(patientId);
    first = undefined;
    // The hourly limit, checked again on the fresh read: concurrent requests all passed the first check.
    if (by === 'patient' && recentEmails(current, now).length >= MAX_RESET_EMAILS_PER_HOUR) return undefined;
    const expiresAt = new Date(now.getTime() + settings.resetMinutes * 60_000).toISOString();
    const resetId = randomUUID();
    const next: StoredReset = {
      patientId,
      accountId: record.accountId,
      resetId,
      status: 'Pending',
      tokenHash,
      pinHash: secrets.pinHash,
      expiresAt,
      failures: 0,
      tries: 0,
      sentAt: [...recentEmails(current, now), now.toISOString()],
      linkGeneration: linkGenerationOf(record),
      version: (current?.version ?? 0) + 1,
    };
    await deps.resets.issue({
      next,
      expectedVersion: current?.version ?? 0,
      putLink: { tokenHash, patientId, resetId, expiresAt },
      ...(current?.tokenHash ? { deleteLink: current.tokenHash } : {}),
      audit: auditEvent(actor, patientTarget(patientId), 'reset.requested', now, {
        by,
        emailed: true,
        replaced: current?.status === 'Pending' && Date.parse(current.expiresAt) > now.getTime(),
        minutes: settings.resetMinutes,
      }),
    });
    return { expiresAt };
  });
  if (!issued) return undefined;
  const message = resetEmail({
    practiceName: settings.practiceName,
    link: resetLink(settings.portalUrl, secrets.token),
    pin: secrets.pin,
    expiresAt: issued.expiresAt,
  });
  try {
    await deps.mailer.send({ to: record.email, ...message });
    return { expiresAt: issued.expiresAt, delivery: 'Sent' };
  } catch (err) {
    // The reset stands; a new request (or staff) sends another. The failure is visible in the trail.
    deps.warn?.('reset email failed', { errorName: err instanceof Error ? err.name : 'unknown' });
    await deps.store
      .appendAudit(auditEvent(actor, patientTarget(patientId), 'reset.email-failed', deps.clock(), { by }, 'failure'))
      .catch(() => undefined);
    return { expiresAt: issued.expiresAt, delivery: 'Failed' };
  }
}

// ------------------------------------------------------------------------------ confirming

export interface ResetConfirmDeps {
  store: RecordStore;
  accounts: Pick<AccountStore, 'findByUsername'>;
  resets: ResetStore;
  logins: Pick<PatientLogins, 'setPassword' | 'signOutEverywhere'>;
  throttle: ThrottleStore;
  mailer: Mailer;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
  warn?: (msg: string, fields: Record<string, string>) => void;
}

export interface ResetConfirmation {
  token: string;
  pin: string;
  username: string;
  newPassword: string;
  newUsername?: string;
  sourceIp: string;
}

export const resetConfirmedMessage = 'Your password has been changed and every session has been signed out. Sign in with your new password.';

interface LiveReset {
  tokenHash: string;
  reset: StoredReset & { pinHash: string };
  record: StoredRecord & { accountId: string; username: string };
}

function isLiveReset(reset: StoredReset | undefined, now: Date): reset is StoredReset & { pinHash: string } {
  return (
    reset?.status === 'Pending' &&
    reset.pinHash !== undefined &&
    reset.failures < MAX_RESET_FAILURES &&
    Date.parse(reset.expiresAt) > now.getTime()
  );
}

/**
 * POST /credential-resets/confirm: the steps of the header, one function each. A wrong PIN or
 * username keeps its try (it was a guess); anything else that fails after the reservation gives
 * it back, and a failure after the lease lets the lease go, so the same request can be repeated.
 */
export async function confirmReset(deps: ResetConfirmDeps, attempt: ResetConfirmation): Promise<{ message: string }> {
  const live = await openResetLink(deps, attempt.token, attempt.sourceIp);
  await reserveTry(deps, live.reset);
  const proven = await givingTryBackOnFailure(deps, live.reset, async () => pinAndUsernameMatch(live, attempt));
  if (!proven) throw wrongPinOrUsername(await countWrongTry(deps, live.reset, attempt.sourceIp, live.tokenHash));
  await givingTryBackOnFailure(deps, live.reset, async () => {
    const username = await checkNewCredentials(deps, live, attempt);
    await underLease(deps, live, (leaseId) => changeCredentials(deps, live, attempt, username, leaseId));
  });
  await sendNotice(deps, live.record, attempt.sourceIp);
  return { message: resetConfirmedMessage };
}

/**
 * Step 1. Per source address, dead links count (rule 6); a 256-bit token needs no per-token
 * limit. Whether a cut-off, an email change or access off came after the issue (rules 17, 29) is
 * the link generation alone, compared exactly: even once access is on again the link stays dead.
 */
async function openResetLink(deps: ResetConfirmDeps, token: string, sourceIp: string): Promise<LiveReset> {
  const now = deps.clock();
  const tokenHash = sha256(token);
  const keys = throttleKeys('reset', `link:${tokenHash}`, sourceIp, now);
  const { addressFailures } = await deps.throttle.read(keys.accountKey, keys.addressKey);
  requireAddressUnderLimit(addressFailures, now);
  const link = await deps.resets.findLink(tokenHash);
  const [reset, record] = link ? await Promise.all([deps.resets.getReset(link.patientId), deps.store.getRecord(link.patientId)]) : [undefined, undefined];
  const valid =
    link !== undefined &&
    isLiveReset(reset, now) &&
    reset.resetId === link.resetId &&
    reset.tokenHash === tokenHash &&
    record !== undefined &&
    record.accessEnabled &&
    linksStillLive(reset.linkGeneration, record) &&
    record.accountId === reset.accountId &&
    record.username !== undefined;
  if (!valid) {
    await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
    throw resetGone();
  }
  return { tokenHash, reset, record: record as LiveReset['record'] };
}

/** Step 2a: one try, reserved before any compare (at most 5 wrong-or-in-flight at once, rule 7). */
async function reserveTry(deps: ResetConfirmDeps, reset: StoredReset): Promise<void> {
  const reserved = await deps.resets.reserveTry(reset.patientId, reset.resetId);
  if (reserved === 'gone') throw resetGone();
  if (reserved === 'busy') throw resetInProgress();
}

/** Runs a step that holds the reserved try; if it fails, the try is given back (it was not a wrong guess). */
async function givingTryBackOnFailure<T>(deps: ResetConfirmDeps, reset: StoredReset, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await deps.resets.releaseTry(reset.patientId, reset.resetId).catch(() => undefined);
    throw err;
  }
}

const sameUsername = (typed: string, actual: string) => constantTimeEqual(sha256(typed.trim().toLowerCase()), sha256(actual.trim().toLowerCase()));

/** Step 2b: the PIN and the username together, both in constant time; which one was wrong is not said. */
async function pinAndUsernameMatch(live: LiveReset, attempt: ResetConfirmation): Promise<boolean> {
  const pinOk = await resetPinMatches(attempt.pin, live.reset.pinHash);
  const userOk = sameUsername(attempt.username, live.record.username);
  return pinOk && userOk;
}

/**
 * Step 3, only once link + PIN + username are proven (rule 27: the password rules name the
 * username and email, "taken" names another login). Our password rules (rules 3 and 31) against
 * the username the login will have, and that username free (checked again in the commit).
 */
async function checkNewCredentials(deps: ResetConfirmDeps, live: LiveReset, attempt: ResetConfirmation): Promise<string> {
  const { record } = live;
  const username = attempt.newUsername ?? record.username;
  const problems = passwordProblems(attempt.newPassword, { username, ...(record.email ? { email: record.email } : {}) });
  if (problems.length > 0) throw badPassword(problems);
  if (username.toLowerCase() !== record.username.toLowerCase()) {
    const holder = await deps.accounts.findByUsername(username);
    if (holder && holder.accountId !== record.accountId) throw usernameTaken();
  }
  return username;
}

/** Step 4: one completion at a time per reset (rule 25); the lease goes again if the work fails. */
async function underLease(deps: ResetConfirmDeps, live: LiveReset, work: (leaseId: string) => Promise<void>): Promise<void> {
  const { patientId, resetId } = live.reset;
  const now = deps.clock();
  const lease = { id: randomUUID(), until: new Date(now.getTime() + RESET_LEASE_SECONDS * 1000).toISOString() };
  const taken = await deps.resets.takeLease(patientId, resetId, live.tokenHash, lease, now);
  if (taken === 'held') throw resetInProgress();
  if (taken === 'gone') throw resetGone();
  try {
    await work(lease.id);
  } catch (err) {
    await deps.resets.releaseLease(patientId, lease.id).catch(() => undefined);
    throw err;
  }
}

/**
 * Steps 5 and 6. Cognito (the password set, every refresh token ended) and the sign-in failure
 * counters cleared (a reset is the way out of a lock, rule 5): safe to repeat. Then one
 * transaction for everything else; a failure before it leaves the reset pending for a retry.
 */
async function changeCredentials(deps: ResetConfirmDeps, live: LiveReset, attempt: ResetConfirmation, username: string, leaseId: string): Promise<void> {
  const { record, reset, tokenHash } = live;
  const { patientId, resetId } = reset;
  const accountId = record.accountId;
  const now = deps.clock();
  await deps.logins.setPassword(accountId, attempt.newPassword);
  await deps.logins.signOutEverywhere(accountId);
  const counterKey = (name: string) => throttleKeys('patient', name, attempt.sourceIp, now).accountKey;
  await Promise.all([...new Set([record.username, username].map((n) => n.toLowerCase()))].map((n) => deps.throttle.clearAccount(counterKey(n))));

  await retryOnConflict(async () => {
    const at = deps.clock();
    const current = await deps.store.getRecord(patientId);
    if (!current || current.accountId !== accountId || !current.accessEnabled || !current.username) throw resetGone();
    // Rule 29: the email changed or access went off (and maybe on again) since the link was issued.
    if (!linksStillLive(reset.linkGeneration, current)) throw resetGone();
    const { login: _login, ...rest } = current;
    const next: StoredRecord = {
      ...rest,
      username,
      // Every session from before ends, and every other link of the record dies (rules 15, 29).
      ...revokeSessionsAndLinks(current, wholeSecond(at)),
      updatedAt: at.toISOString(),
      version: current.version + 1,
    };
    const change: ResetCompletion = {
      record: { next, expectedVersion: current.version },
      patientId,
      resetId,
      leaseId,
      tokenHash,
      claim: username,
      ...(current.username.toLowerCase() !== username.toLowerCase() ? { release: current.username } : {}),
      audit: auditEvent(patientActor(current, attempt.sourceIp), patientTarget(patientId), 'reset.completed', at, {
        usernameChanged: current.username !== username,
        wasMustChange: current.login?.mustChangePassword === true,
      }),
    };
    await deps.resets.complete(change).catch(async (err: unknown) => {
      if (!(await completedDespite(deps, reset, err))) throw err;
    });
  });
}

/**
 * Rule 24: the commit done with only its answer lost reads Used; then the attempt carries on to
 * the notice and the 200, which a retry (410, the link is used) could never give. A refusal
 * (DomainError) is an answer, never a lost one.
 */
async function completedDespite(deps: ResetConfirmDeps, reset: StoredReset, err: unknown): Promise<boolean> {
  if (err instanceof DomainError) return false;
  const now = await deps.resets.getReset(reset.patientId).catch(() => undefined);
  return now?.resetId === reset.resetId && now.status === 'Used';
}

/**
 * Step 7: the "your credentials changed" notice, with no secret (rule 15). Best effort: the
 * reset is done either way, so no failure here (the settings read included) may turn it into an
 * error that a retry could only answer 410.
 */
async function sendNotice(deps: ResetConfirmDeps, record: LiveReset['record'], sourceIp: string): Promise<void> {
  if (!record.email) return;
  try {
    const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
    await deps.mailer.send({ to: record.email, ...credentialsChangedEmail({ practiceName: settings.practiceName, at: deps.clock().toISOString() }) });
  } catch (err) {
    deps.warn?.('credentials-changed notice failed', { errorName: err instanceof Error ? err.name : 'unknown' });
    await deps.store
      .appendAudit(auditEvent(patientActor(record, sourceIp), patientTarget(record.patientId), 'reset.notice-failed', deps.clock(), {}, 'failure'))
      .catch(() => undefined);
  }
}

/** Counts a wrong try (its reservation stays: it was spent); the 5th kills the link. True when the link is now dead. */
async function countWrongTry(deps: ResetConfirmDeps, reset: StoredReset, sourceIp: string, tokenHash: string): Promise<boolean> {
  const { patientId, resetId } = reset;
  const now = deps.clock();
  const failures = await deps.resets.countFailure(patientId, resetId);
  const dead = failures === undefined || failures >= MAX_RESET_FAILURES;
  const keys = throttleKeys('reset', `link:${tokenHash}`, sourceIp, now);
  await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
  await deps.store.appendAudit(
    auditEvent(anonymous(sourceIp), patientTarget(patientId), 'reset.wrong-pin-or-username', now, { failures: failures ?? MAX_RESET_FAILURES }, 'failure'),
  );
  if (dead) {
    await deps.resets.kill(
      patientId,
      resetId,
      auditEvent(anonymous(sourceIp), patientTarget(patientId), 'reset.link-killed', now, { failures: failures ?? MAX_RESET_FAILURES }, 'failure'),
    );
  }
  return dead;
}
