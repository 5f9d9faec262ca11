/**
 * Credential reset (issue 4): a patient (or staff for them) asks for a reset; one email carries
 * a one-time link and a 6-character PIN; the patient types the PIN and the current username
 * again, and chooses a new password (and optionally a new username). Security rules 3, 5, 7, 8,
 * 9, 10, 11, 12, 13, 14, 15, 18, 20, 24, 25.
 *
 * A reset is a one-time link (one-time-link.ts) with the policy `resetPolicy` below: per
 * patient one link state (RESET#<patientId>: the token's SHA-256, the PIN as a salted scrypt hash
 * (rule 10), the try counters, the lease, the login it resets, and the times of the last emails
 * for the 3-an-hour limit) and one pointer per live token (RESETLINK#<hash>), which names the
 * patient, so a token can never act on another patient (rule 9). One link per patient: a new
 * request replaces the old one, and a completed reset leaves none.
 *
 * A request never touches the portal record or the sign-in failure counters (rules 7 and 8).
 *
 * Confirmation, step by step, each safe to repeat:
 *   1. The link (lookUp): live, unexpired, of a record with access on, the same login, and no
 *      cut-off, email change or access off since issue (the link generation, exactly); anything
 *      else is the one 410 (rule 11). Dead links count against the source address.
 *   2. The PIN and the current username (useLink): a try is reserved first, in the same write
 *      as the lease (at most 5 wrong-or-in-flight, one compare at a time), so 1000 concurrent
 *      guesses get at most 5 checks (rule 7); both compared
 *      in constant time, which one was wrong is not said; the 5th wrong pair kills the link. Every
 *      failure up to here has one body whatever the new password is (rule 27).
 *   3. The password rules and the new username free (400/409; the try is given back). They
 *      mention the username and email, so they run only once link + PIN + username are proven.
 *   4-6. The lease, taken in step 2 (20 at once: one 200, rule 25); Cognito sets the password and
 *      ends every refresh token; one transaction: record (new username, sessions and links cut
 *      off, "must change" cleared), link Used, pointer deleted, username claimed/released, the
 *      sign-in failure counters cleared (rule 5), audit entry. A failure lets the
 *      lease and the try go, so a retry of the same request completes the reset (rule 24).
 *   7. The "your credentials changed" notice, with no secret (rule 15); no tokens are answered.
 */
import { credentialsChangedEmail, resetEmail } from '../mail/templates.ts';
import type { Settings } from '../schemas/settings.ts';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError, notFound, retryOnConflict, versionConflict } from './errors.ts';
import type { Mailer } from './invitations.ts';
import { lookUp, newLink, refusal as wrongSet, useLink, type LinkPolicy, type LinkState, type LinkStore, type LiveLink } from './one-time-link.ts';
import { passwordProblems } from './password-policy.ts';
import { badPassword } from './patient-sign-in.ts';
import { linksStillLive, revokeSessionsAndLinks, type StoredRecord } from './portal-record.ts';
import { readTogether, type AccountLink, type AccountStore, type Clock, type PatientLogins, type RecordStore } from './ports.ts';
import { digestsEqual, hashPin, newPin, verifyPinHash } from './secrets.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import { accountThrottleKey, requireAddressUnderLimit, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';

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

// ------------------------------------------------------------------------------ errors

/** The one answer for an expired, used, dead or unknown link (rule 11). */
export const resetGone = () =>
  new DomainError('gone', 'reset-link-gone', 'This reset link no longer works. Ask for a new one on the sign-in page, or call the practice.');

export const wrongPinOrUsername = (dead: boolean) =>
  new DomainError(
    'unauthorized',
    'wrong-pin-or-username',
    dead
      ? 'The PIN or the username is not right. After too many wrong tries this link no longer works: ask for a new one.'
      : 'The PIN or the username is not right. Check the PIN in the email and your current username, then try again.',
  );

export const resetInProgress = () =>
  new DomainError('conflict', 'reset-in-progress', 'A reset with this link is already under way. Wait a moment, then try again.');

const usernameTaken = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

const notRegistered = () =>
  new DomainError('conflict', 'not-registered', 'This patient has no portal login yet. Send an invitation instead.');

const accessDisabled = () =>
  new DomainError('conflict', 'access-disabled', 'Portal access is disabled for this patient. Enable it before sending a reset.');

const noEmail = () => new DomainError('unprocessable', 'no-email', 'The record has no email address. Add one before sending a reset.');

// ------------------------------------------------------------------------------ the link policy

/** A reset's own field on its link state: when the reset emails of the last hour went out (rate limit). */
export interface ResetData {
  sentAt: string[];
}

export type StoredReset = LinkState<ResetData>;
export type ResetStore = LinkStore<ResetData>;

const sameUsername = (typed: string, actual: string) => digestsEqual(typed.trim().toLowerCase(), actual.trim().toLowerCase());

/** What makes a reset link: a PIN (hashed) and the current username (against the record), 5 wrong pairs, the practice's resetMinutes. */
export const resetPolicy: LinkPolicy<ResetData> = {
  kind: 'reset',
  lifetimeMs: (settings) => settings.resetMinutes * 60_000,
  secrets: [
    { name: 'pin', matches: async (typed, stored) => stored !== undefined && (await verifyPinHash(typed, stored)) },
    { name: 'username', matches: async (typed, _stored, _state, record) => record.username !== undefined && sameUsername(typed, record.username) },
  ],
  maxFailures: MAX_RESET_FAILURES,
  leaseSeconds: RESET_LEASE_SECONDS,
  // The login it was issued for, still with access and a username (a replaced login refuses it, rule 9).
  recordAllows: (record, state) => record.accessEnabled && record.accountId !== undefined && record.accountId === state.accountId && record.username !== undefined,
  errors: { gone: resetGone, busy: resetInProgress, wrongSecret: wrongPinOrUsername, conflict: versionConflict },
  audit: { wrongSecret: 'reset.wrong-pin-or-username', locked: 'reset.link-killed' },
  throttle: {
    keys: (target, sourceIp, now) => throttleKeys('reset', target, sourceIp, now),
    requireUnder: requireAddressUnderLimit,
    // A wrong PIN-or-username counts against the source address like a dead link (rule 6).
    async guardCompare(deps, keys, compare) {
      try {
        await compare();
      } catch (err) {
        if (err instanceof DomainError && err.code === wrongSet().code) await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, deps.clock());
        throw err;
      }
    },
  },
};

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
  pin: string;
  pinHash: string;
}

const newSecrets = async (): Promise<Secrets> => {
  const pin = newPin();
  return { pin, pinHash: await hashPin(pin) };
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
  // Two reads, each of the items known at that point (issue 16): settings and login, then record and reset.
  const [{ settings }, link] = await readTogether(deps.store, () =>
    Promise.all([readSettings({ store: deps.store, defaults: deps.settingsDefaults }), deps.accounts.findByUsername(request.username)]),
  );
  const patientId = link?.patientId ?? NO_PATIENT;
  const [record, current, secrets] = await readTogether(deps.store, () => Promise.all([deps.store.getRecord(patientId), deps.resets.get(patientId), newSecrets()]));
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
  return (reset?.data?.sentAt ?? []).filter((at) => now.getTime() - Date.parse(at) < HOUR_MS);
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
  let first = known;
  const issued = await retryOnConflict(async () => {
    const now = deps.clock();
    // The write is conditional on this version, so a stale first read only costs a retry, which reads afresh.
    const current = first ? first.current : await deps.resets.get(patientId);
    first = undefined;
    // The hourly limit (rule 13's 4th request of the hour), on the caller's read first, then on each fresh read.
    if (by === 'patient' && recentEmails(current, now).length >= MAX_RESET_EMAILS_PER_HOUR) return undefined;
    const link = newLink(resetPolicy, {
      record,
      current,
      now,
      settings,
      secrets: { pin: secrets.pinHash },
      data: { sentAt: [...recentEmails(current, now), now.toISOString()] },
      accountId: record.accountId,
    });
    await deps.resets.write({
      ...link.write,
      audit: auditEvent(actor, patientTarget(patientId), 'reset.requested', now, {
        by,
        emailed: true,
        replaced: current?.status === 'Pending' && Date.parse(current.expiresAt) > now.getTime(),
        minutes: settings.resetMinutes,
      }),
    });
    return { expiresAt: link.state.expiresAt, token: link.token };
  });
  if (!issued) return undefined;
  const message = resetEmail({
    practiceName: settings.practiceName,
    link: resetLink(settings.portalUrl, issued.token),
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

type LiveReset = LiveLink<ResetData> & { record: StoredRecord & { accountId: string; username: string } };

/**
 * POST /credential-resets/confirm: the steps of the header, in 4 DynamoDB calls (issue 16): the
 * counters, the link and the new username's holder; the state, the record and the settings; one
 * write for the lease and the try (rule 5); one transaction that also clears the sign-in
 * counters. A wrong PIN or username keeps its try (it was a guess); any other failure gives lease
 * and try back, so the same request can be repeated. A success keeps the try: the link is used.
 */
export async function confirmReset(deps: ResetConfirmDeps, attempt: ResetConfirmation): Promise<{ message: string }> {
  const links = { store: deps.store, links: deps.resets, throttle: deps.throttle, clock: deps.clock };
  const { newUsername } = attempt;
  const found = await lookUp(links, resetPolicy, attempt.token, attempt.sourceIp, {
    // Read whenever a new username is typed; looked at only once link, PIN and username are proven (rule 27).
    first: () => (newUsername !== undefined ? deps.accounts.findByUsername(newUsername) : Promise.resolve(undefined)),
    // For the notice (step 7), which never fails the reset: a settings problem only means reading them again there.
    withState: () => readSettings({ store: deps.store, defaults: deps.settingsDefaults }).then((r) => r.settings, () => undefined),
  });
  const live = found as LiveReset;
  let username = live.record.username;
  await useLink(links, resetPolicy, live, { pin: attempt.pin, username: attempt.username }, attempt.sourceIp, {
    check: () => {
      username = checkNewCredentials(live, attempt, found.first);
    },
    outside: (accountId) => changeLogin(deps, attempt, accountId),
    commit: (record, state, at, accountId) => completion(record, state, at, accountId, username, attempt.sourceIp),
  });
  await sendNotice(deps, live.record, attempt.sourceIp, found.withState);
  return { message: resetConfirmedMessage };
}

/**
 * Step 3, only once link + PIN + username are proven (rule 27: the password rules name the
 * username and email, "taken" names another login). Our password rules (rules 3 and 31) against
 * the username the login will have, and that username free (`holder`, read with the link; the
 * commit claims it, conditionally, again).
 */
function checkNewCredentials(live: LiveReset, attempt: ResetConfirmation, holder: AccountLink | undefined): string {
  const { record } = live;
  const username = attempt.newUsername ?? record.username;
  const problems = passwordProblems(attempt.newPassword, { username, ...(record.email ? { email: record.email } : {}) });
  if (problems.length > 0) throw badPassword(problems);
  if (username.toLowerCase() !== record.username.toLowerCase() && holder && holder.accountId !== record.accountId) throw usernameTaken();
  return username;
}

/** Step 5, under the lease: Cognito. Safe to repeat. The sign-in counters are cleared in the commit (step 6). */
async function changeLogin(deps: ResetConfirmDeps, attempt: ResetConfirmation, accountId: string): Promise<void> {
  await deps.logins.setPassword(accountId, attempt.newPassword);
  await deps.logins.signOutEverywhere(accountId);
}

/**
 * Step 6: the record as the reset leaves it, from the record as read (the commit is conditional on
 * its version); the sign-in failure counters of the old and the new username cleared in the same
 * transaction (a reset is the way out of a lock, rule 5).
 */
function completion(current: StoredRecord | undefined, state: StoredReset, at: Date, accountId: string, username: string, sourceIp: string) {
  if (!current || current.accountId !== accountId || !current.accessEnabled || !current.username) throw resetGone();
  // Rule 29: the email changed or access went off (and maybe on again) since the link was issued.
  if (!linksStillLive(state.linkGeneration, current)) throw resetGone();
  const { login: _login, ...rest } = current;
  const renamed = current.username.toLowerCase() !== username.toLowerCase();
  return {
    // Every session from before ends, and every other link of the record dies (rules 15, 29).
    record: { ...rest, username, ...revokeSessionsAndLinks(current, at.toISOString()) },
    linkAccount: true,
    usernames: { claim: username, ...(renamed ? { release: current.username } : {}) },
    clearThrottle: [...new Set([current.username, username].map((n) => n.toLowerCase()))].map((n) => accountThrottleKey('patient', n)),
    audit: auditEvent(patientActor(current, sourceIp), patientTarget(current.patientId), 'reset.completed', at, {
      usernameChanged: current.username !== username,
      wasMustChange: current.login?.mustChangePassword === true,
    }),
  };
}

/**
 * Step 7: the "your credentials changed" notice, with no secret (rule 15). Best effort: the
 * reset is done either way, so no failure here (the settings read included) may turn it into an
 * error that a retry could only answer 410.
 */
async function sendNotice(deps: ResetConfirmDeps, record: LiveReset['record'], sourceIp: string, known?: Settings): Promise<void> {
  if (!record.email) return;
  try {
    const settings = known ?? (await readSettings({ store: deps.store, defaults: deps.settingsDefaults })).settings;
    await deps.mailer.send({ to: record.email, ...credentialsChangedEmail({ practiceName: settings.practiceName, at: deps.clock().toISOString() }) });
  } catch (err) {
    deps.warn?.('credentials-changed notice failed', { errorName: err instanceof Error ? err.name : 'unknown' });
    await deps.store
      .appendAudit(auditEvent(patientActor(record, sourceIp), patientTarget(record.patientId), 'reset.notice-failed', deps.clock(), {}, 'failure'))
      .catch(() => undefined);
  }
}
