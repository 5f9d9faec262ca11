/**
 * The email-match registration method (issue 3 item 4; the source product's first method): the
 * clinic checks the patient's identity and enters their email address on the record; later the
 * patient enters the same address in the portal (POST /registrations/email), a verification link
 * is emailed to it, and opening the link proves control of the mailbox, after which the patient
 * chooses a username and password (POST /registrations/email/confirm). Security rules 3, 6, 9,
 * 11, 13, 14, 18, 24, 25.
 *
 * - Only where the practice turned it on (settings.emailMatch, default false): a patient
 *   then registers without a PIN from the front desk, so it is the practice's choice. Off, the
 *   request answers the same 202 and sends nothing.
 * - The request always answers 202 with one body, matched or not (rule 13), and takes the same
 *   time: both paths do the same reads and counter writes, and the answer waits (equal-time.ts) until a fixed
 *   floor (EMAIL_MATCH_FLOOR_MS) has passed since the request began, which covers the matched
 *   path's extra transaction and email. A failure that only the matched path could meet (its
 *   transaction, SES) is logged and still answered 202.
 * - Limits: per source address a budget of requests per window (429 with Retry-After past it,
 *   rule 6, counted the same matched or not); per email address at most a few requests an hour
 *   (past that: the same 202, nothing sent), so nobody can flood a patient's mailbox.
 * - The link: 256 bits, stored only as SHA-256 (rule 9), one live link per record (a new request
 *   replaces it), valid EMAIL_MATCH_LINK_HOURS, single use. It dies when the record's email
 *   changes, when access is turned off or revoked after it was sent (also once re-enabled), and
 *   when the record gets a login by any method; all of those, and unknown links, get one 410.
 * - The link is a one-time link (one-time-link.ts) with the policy `emailMatchPolicy`: no
 *   secret to type (the mailbox is the proof), its own key space (EMAILMATCH#, EMAILMATCHLINK#),
 *   and the commit a registration: the lease fixing the accountId before Cognito is called, the
 *   login, and one transaction with the record, the link, the username and the audit entry.
 */
import { randomUUID } from 'node:crypto';
import { emailMatchAmbiguousEmail, emailMatchEmail } from '../mail/templates.ts';
import type { EmailMatchAccepted } from '../schemas/email-match.ts';
import type { Settings } from '../schemas/settings.ts';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { realTime, withEqualTime, type EqualTime } from './equal-time.ts';
import { DomainError, versionConflict } from './errors.ts';
import type { Mailer } from './invitations.ts';
import { leaseAndCommit, lookUp, newLink, type LinkPolicy, type LinkState, type LinkStore } from './one-time-link.ts';
import { isPasswordRefusal, passwordProblems, passwordRefusedByPool } from './password-policy.ts';
import { firstLoginStamp, linksStillLive, type StoredRecord } from './portal-record.ts';
import type { AccountStore, Clock, PatientLogins, RecordStore } from './ports.ts';
import { sha256 } from './secrets.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import type { ThrottleStore } from './sign-in-throttle.ts';

/** How long a verification link works: a day, not settings.invitationDays, since it needs nothing but the mailbox. */
export const EMAIL_MATCH_LINK_HOURS = 24;

/**
 * Every request answers no sooner than this after it began. Well above the matched path's time
 * (two reads, one transaction, one SES call: tens of ms locally, ~100-300 ms in AWS), so matched
 * and unmatched requests cannot be told apart by time; a request that still overran is logged.
 */
export const EMAIL_MATCH_FLOOR_MS = 600;

export const emailMatchLimits = {
  /** Requests naming one email address per hour; past it nothing more is sent that hour. */
  requestsPerEmailPerHour: 3,
  /** Requests (and dead confirmation links) per source address and window; past it 429. */
  requestsPerAddressPerWindow: 100,
  addressWindowSeconds: 15 * 60,
} as const;

/** The one 202 body (rule 13). */
export const emailMatchAccepted: EmailMatchAccepted = {
  message:
    'If this email address is on file with the practice for a patient who has no portal login yet, a link to set one up is on its way to it. The link works for 24 hours.',
};

/** The one answer for an expired, used, replaced, cancelled or unknown verification link (rule 11). */
export const verificationGone = () =>
  new DomainError('gone', 'link-gone', 'This verification link no longer works. Enter your email address in the portal again to get a new one.');

const inProgress = () =>
  new DomainError('conflict', 'registration-in-progress', 'A registration with this link is already under way. Wait a moment, then try again.');

const usernameTaken = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

const tooMany = (now: Date) => {
  const windowMs = emailMatchLimits.addressWindowSeconds * 1000;
  return new DomainError('too-many-requests', 'too-many-attempts', 'Too many requests from this address. Wait before trying again.', {
    retryAfterSeconds: Math.ceil((windowMs - (now.getTime() % windowMs)) / 1000),
  });
};

// ------------------------------------------------------------------------------ ports

/** The email-match link's own field: SHA-256 of the lower-cased address it went to (the link dies when the record's email changes). */
export interface EmailMatchData {
  emailHash: string;
}

export type EmailMatchState = LinkState<EmailMatchData>;

/** Email-match links (the one-time link store over their own keys), and the byEmail lookup. */
export interface EmailMatchStore extends LinkStore<EmailMatchData> {
  /** Portal records whose email is `email` (lower-cased), from the byEmail index; a handful at most. */
  recordsByEmail(email: string): Promise<StoredRecord[]>;
}

export interface EmailMatchRequestDeps {
  store: RecordStore;
  matches: EmailMatchStore;
  throttle: ThrottleStore;
  mailer: Mailer;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
  /** Names only, never an address or a token. */
  warn?: (msg: string, fields: Record<string, string | number>) => void;
  /** The equal-time floor (rule 13); tests pass their own clock and sleep. Default: EMAIL_MATCH_FLOOR_MS in real time. */
  timing?: EqualTime;
}

export interface EmailMatchConfirmDeps {
  store: RecordStore;
  matches: EmailMatchStore;
  accounts: Pick<AccountStore, 'findByUsername'>;
  logins: Pick<PatientLogins, 'upsert' | 'remove'>;
  throttle: ThrottleStore;
  clock: Clock;
}

// ------------------------------------------------------------------------------ helpers

const normalise = (email: string) => email.trim().toLowerCase();
export const emailHash = (email: string) => sha256(`email-match:${normalise(email)}`);

/**
 * Throttle keys, hashed (never an address in clear): the email's counter is per hour, the
 * source address's per window; both in the THROTTLE# items of dynamo-throttle.ts.
 */
export function emailMatchKeys(target: string, sourceIp: string, now: Date) {
  const hour = Math.floor(now.getTime() / 3_600_000);
  const window = Math.floor(now.getTime() / 1000 / emailMatchLimits.addressWindowSeconds);
  return { accountKey: sha256(`email-match:target:${target}:${hour}`), addressKey: sha256(`email-match:address:${sourceIp}:${window}`) };
}

export const verifyLink = (portalUrl: string, token: string): string =>
  `${portalUrl.replace(/\/+$/, '')}/portal/verify#token=${encodeURIComponent(token)}`;

/** A record the method may register: access on, no login, this email on file. */
const eligible = (record: StoredRecord | undefined, email: string): record is StoredRecord & { email: string } =>
  record !== undefined && record.accessEnabled && !record.accountId && record.email !== undefined && normalise(record.email) === email;

/** What makes an email-match link: no secret, a day, the record still without a login and with the same address. */
export const emailMatchPolicy: LinkPolicy<EmailMatchData> = {
  kind: 'email-match',
  lifetimeMs: () => EMAIL_MATCH_LINK_HOURS * 3_600_000,
  secrets: [],
  maxFailures: 1,
  leaseSeconds: 30,
  recordAllows: (record, state) =>
    record.accessEnabled && !record.accountId && record.email !== undefined && emailHash(record.email) === state.data?.emailHash,
  errors: { gone: verificationGone, busy: inProgress, wrongSecret: verificationGone, conflict: versionConflict },
  audit: { wrongSecret: 'email-match.wrong-secret', locked: 'email-match.locked' },
  throttle: {
    keys: emailMatchKeys,
    requireUnder: (addressFailures, now) => {
      if (addressFailures >= emailMatchLimits.requestsPerAddressPerWindow) throw tooMany(now);
    },
  },
};

const anonymous = (sourceIp: string): Actor => ({ id: 'anonymous', sourceIp });

// ------------------------------------------------------------------------------ request

/** POST /registrations/email: always the one 202 body, after the floor (or 429 from an address past its budget). */
export async function requestEmailMatch(deps: EmailMatchRequestDeps, request: { email: string; sourceIp: string }): Promise<EmailMatchAccepted> {
  await withEqualTime(deps.timing ?? realTime(EMAIL_MATCH_FLOOR_MS), () => matchAndSend(deps, normalise(request.email), request.sourceIp), (spent) => {
    if (spent.overran) deps.warn?.('email-match request overran its time floor', { spentMs: spent.workMs, floorMs: spent.floorMs });
  });
  return emailMatchAccepted;
}

/**
 * The work both paths share (settings, the two counters read and bumped, the index query), then
 * the matched path's own. DynamoDB calls: 1 Get (settings) + 2 Get + 2 Update (counters) + 1
 * Query for every request; a match adds 2 Get (record, state) + 1 TransactWrite, and the email.
 */
async function matchAndSend(deps: EmailMatchRequestDeps, email: string, sourceIp: string): Promise<void> {
  const now = deps.clock();
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  if (!settings.emailMatch) return;
  const keys = emailMatchKeys(email, sourceIp, now);
  const { account, addressFailures } = await deps.throttle.read(keys.accountKey, keys.addressKey);
  if (addressFailures >= emailMatchLimits.requestsPerAddressPerWindow) throw tooMany(now);
  await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
  const emailBudgetLeft = (account?.failures ?? 0) < emailMatchLimits.requestsPerEmailPerHour;
  const candidates = (await deps.matches.recordsByEmail(email)).filter((r) => eligible(r, email));
  if (!emailBudgetLeft || candidates.length === 0) return;
  try {
    if (candidates.length > 1) {
      // A shared family mailbox: no link (whose login would it make?), a note to call the practice.
      await deps.mailer.send({ to: candidates[0]!.email, ...emailMatchAmbiguousEmail({ practiceName: settings.practiceName }) });
      deps.warn?.('email-match address on file for several records', { records: candidates.length });
      return;
    }
    await issueAndSend(deps, candidates[0]!.patientId, email, settings, sourceIp);
  } catch (err) {
    // Only the matched path gets here: answering anything but the one 202 would tell (rule 13).
    deps.warn?.('email-match link not sent', { errorName: err instanceof Error ? err.name : 'unknown' });
  }
}

async function issueAndSend(deps: EmailMatchRequestDeps, patientId: string, email: string, settings: Settings, sourceIp: string): Promise<void> {
  const now = deps.clock();
  // The index is eventually consistent: read the record itself before acting on it.
  const [record, current] = await Promise.all([deps.store.getRecord(patientId), deps.matches.get(patientId)]);
  if (!eligible(record, email)) return;
  // A confirmation of the current link is under way: let it finish rather than pull its link away.
  if (current?.lease && Date.parse(current.lease.until) > now.getTime()) return;
  // A login an earlier, unfinished confirmation made is the one a new confirmation completes.
  const link = newLink(emailMatchPolicy, { record, current, now, settings, data: { emailHash: emailHash(email) }, ...(current?.accountId ? { accountId: current.accountId } : {}) });
  await deps.matches.write({
    ...link.write,
    audit: auditEvent(anonymous(sourceIp), patientTarget(patientId), 'email-match.requested', now, { hours: EMAIL_MATCH_LINK_HOURS, replaced: current?.status ?? 'None' }),
  });
  await deps.mailer.send({
    to: record.email,
    ...emailMatchEmail({ practiceName: settings.practiceName, link: verifyLink(settings.portalUrl, link.token), expiresAt: link.state.expiresAt }),
  });
}

// ------------------------------------------------------------------------------ confirm

export interface EmailMatchAttempt {
  token: string;
  username: string;
  password: string;
  sourceIp: string;
}

/**
 * POST /registrations/email/confirm. DynamoDB calls: 2 Get (address counter) + 1 Get (link) +
 * 2 Get (state, record) + 1 Get (username), then 1 Update (lease) + 1 Get (record) + 1
 * TransactWrite; a dead link instead: 2 Update (counters) and the 410.
 */
export async function confirmEmailMatch(deps: EmailMatchConfirmDeps, attempt: EmailMatchAttempt): Promise<{ accountId: string; username: string }> {
  const { token, username, password, sourceIp } = attempt;
  const links = { store: deps.store, links: deps.matches, throttle: deps.throttle, clock: deps.clock };
  const live = await lookUp(links, emailMatchPolicy, token, sourceIp);

  // Rule 3, with the reason in words; and the username before anything is written.
  const problems = passwordProblems(password, { username, email: live.record.email! });
  if (problems.length > 0) {
    throw new DomainError('bad-request', 'validation-error', 'The password cannot be used.', {
      errors: problems.map((message) => ({ path: 'body.password', message })),
    });
  }
  if (await deps.accounts.findByUsername(username)) throw usernameTaken();

  const { accountId } = await leaseAndCommit(links, emailMatchPolicy, live, {
    newAccountId: randomUUID(),
    // The login, safe to repeat: the same accountId every time. Cognito refusing a password our rules accepted is rule 31.
    outside: (accountId) =>
      deps.logins.upsert(accountId, password).then(
        () => undefined,
        (err: unknown) => {
          throw isPasswordRefusal(err) ? passwordRefusedByPool('body.password') : err;
        },
      ),
    undo: (accountId) => deps.logins.remove(accountId),
    commit: (current, state, at, accountId) => {
      if (!current || !emailMatchPolicy.recordAllows(current, state) || !linksStillLive(state.linkGeneration, current)) throw verificationGone();
      const { login: _login, ...rest } = current;
      // A staff invitation still pending is done with: the patient has a login now.
      const open = current.invite.status === 'Pending' || current.invite.status === 'Locked';
      return {
        record: { ...rest, ...(open ? { invite: { ...current.invite, status: 'Cancelled' as const } } : {}), accountId, username, registration: 'NormalRegistration', ...firstLoginStamp(current, at) },
        linkAccount: true,
        usernames: { claim: username },
        audit: auditEvent({ id: accountId, sourceIp }, patientTarget(current.patientId), 'registration.completed', at, { method: 'email-match' }),
      };
    },
  });
  return { accountId, username };
}
