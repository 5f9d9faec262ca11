/**
 * Self-registration with staff approval (issue 19). A person who is not yet enrolled fills in the
 * form (`/portal/self-register`), proves their address from the mailbox, and the request waits for
 * staff; staff approve it onto a record (created when missing) or reject it.
 *
 *   POST /self-registrations ──► Unverified ──verify──► Pending ──approve──► Approved (+ email-match link)
 *                                   │ 24 h                 │ 30 d   └─reject──► Rejected
 *                                   ▼                      ▼                   (both deleted 7 d later)
 *                                 gone                    gone
 *
 * - Only where settings.selfRegistration: otherwise both public routes answer exactly what an
 *   unknown route answers (404 `/problems/not-found`, no detail), so the form's absence reveals
 *   nothing more than that.
 * - The request answers one 202 body, no sooner than SELF_REGISTRATION_FLOOR_MS after it began
 *   (rule 13, equal-time.ts), for any address: known to the practice or not, with a login or not
 *   (no record is even read: the request never looks at records), repeated or not. Throttled per
 *   source address (429 past the budget) and per address (past a few an hour: the same 202,
 *   nothing sent). A failure only some paths meet (the write, SES) is logged and answered 202.
 * - One open request per address (`SELFREGEMAIL#<hash>`): a new request for an address whose
 *   request is still Unverified REPLACES it (new data, new link, the old link dead); one whose
 *   request is Pending sends nothing new. Approved or rejected, the address is free again.
 * - The email link: 256 bits from a CSPRNG, stored only as SHA-256 behind `SELFREGLINK#<hash>`
 *   (rule 9), valid SELF_REGISTRATION_LINK_HOURS, used once; dead links get one 410 (rule 11) and
 *   count against the source address (rule 6). The generic LinkPolicy (one-time-link.ts) is bound
 *   to a portal record (its state lives per patientId, its look-up reads the record, its
 *   revocation is the record's generation), and a self-registration has no record until staff
 *   approve it, so this flow uses that module's token and hash and keeps its own small state on
 *   the request item, in its own key space.
 * - Approve: staff with invite permission, audited, as the caller (rule 28). In ONE transaction:
 *   the request Pending → Approved (conditional on its version: of 20 concurrent approvals one
 *   wins, the rest read Approved and get 409), the record (created with the request's email, or
 *   the existing one given that email — an email change bumps its generation as any staff edit
 *   does), and an email-match link (`emailMatchPolicy`, its own EMAILMATCH# key space) that
 *   `POST /registrations/email/confirm` finishes whatever settings.emailMatch says; then the
 *   email. 409 when the record already has a login or has access off.
 * - Reject: audited; the person gets an email in words that reveal no record and not the reason.
 * - Retention: see lambdas/schemas/self-registration.ts. Every item carries `ttl`; every read
 *   checks `deleteAt` itself, because DynamoDB Local never deletes expired items.
 */
import { randomUUID } from 'node:crypto';
import { selfRegistrationApprovedEmail, selfRegistrationDeclinedEmail, selfRegistrationLinkEmail } from '../mail/templates.ts';
import type { PortalRecord } from '../schemas/portal-record.ts';
import {
  SELF_REGISTRATION_DECIDED_DAYS,
  SELF_REGISTRATION_LINK_HOURS,
  SELF_REGISTRATION_PENDING_DAYS,
  type SelfRegistration,
  type SelfRegistrationAccepted,
  type SelfRegistrationPage,
  type SelfRegistrationRejected,
  type SelfRegistrationRequest,
  type SelfRegistrationStatus,
} from '../schemas/self-registration.ts';
import { auditEvent, patientTarget, type Actor, type AuditEvent } from './audit.ts';
import { emailHash as emailMatchHash, emailMatchPolicy, verifyLink, type EmailMatchStore } from './email-match.ts';
import { realTime, withEqualTime, type EqualTime } from './equal-time.ts';
import { DomainError, retryOnConflict } from './errors.ts';
import type { Mailer } from './invitations.ts';
import { newLink, type LinkWrite } from './one-time-link.ts';
import { requireInvitePermission } from './permissions.ts';
import { applyChange, newRecord, present, type StoredRecord } from './portal-record.ts';
import type { Clock, Page, RecordStore } from './ports.ts';
import { notifyPractice } from './practice-notices.ts';
import { opaqueToken, sha256 } from './secrets.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import type { ThrottleStore } from './sign-in-throttle.ts';

/** Every request answers no sooner than this after it began (rule 13); the write and SES fit well inside. */
export const SELF_REGISTRATION_FLOOR_MS = 600;

export const selfRegistrationLimits = {
  /** Requests naming one address per hour; past it nothing more is sent that hour. */
  requestsPerEmailPerHour: 3,
  /** Requests and dead links per source address and window; past it 429. */
  requestsPerAddressPerWindow: 100,
  addressWindowSeconds: 15 * 60,
} as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The one 202 body (rule 13). */
export const selfRegistrationAccepted: SelfRegistrationAccepted = {
  message:
    'Thank you. If this email address can receive mail, a link to confirm it is on its way. Open it within 24 hours to send your request to the practice.',
};

// ------------------------------------------------------------------------------ errors

/** What an unknown route answers: the form's routes where the practice has not turned it on. */
export const selfRegistrationOff = () => new DomainError('not-found', 'not-found', '');

/** The one answer for an expired, used, replaced or unknown confirmation link (rule 11). */
export const selfRegistrationLinkGone = () =>
  new DomainError('gone', 'link-gone', 'This confirmation link no longer works. Fill in the registration form again to get a new one.');

const requestNotFound = () => new DomainError('not-found', 'not-found', 'The registration request was not found.');

const alreadyDecided = () =>
  new DomainError('conflict', 'already-decided', 'This registration request was already approved or rejected, or is not waiting for approval.');

const alreadyRegistered = () =>
  new DomainError('conflict', 'already-registered', 'This record already has a portal login. Pick another record, or reject the request.');

const accessOff = () =>
  new DomainError('conflict', 'access-disabled', 'Portal access is turned off on this record. Turn it on first, or pick another record.');

const linkInProgress = () =>
  new DomainError('conflict', 'registration-in-progress', 'A registration on this record is under way right now. Try again in a minute.');

const tooMany = (now: Date) => {
  const windowMs = selfRegistrationLimits.addressWindowSeconds * 1000;
  return new DomainError('too-many-requests', 'too-many-attempts', 'Too many requests from this address. Wait before trying again.', {
    retryAfterSeconds: Math.ceil((windowMs - (now.getTime() % windowMs)) / 1000),
  });
};

// ------------------------------------------------------------------------------ state and ports

export type RequestStatus = 'Unverified' | SelfRegistrationStatus;

/** One request as stored (SELFREG#<requestId>): the person's data lives here and nowhere else. */
export interface StoredRequest {
  requestId: string;
  status: RequestStatus;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  /** As typed (trimmed); `emailHash` is of the lower-cased form. */
  email: string;
  emailHash: string;
  phone?: string;
  createdAt: string;
  updatedAt: string;
  verifiedAt?: string;
  decidedAt?: string;
  /** The staff caller's id (audit actor). */
  decidedBy?: string;
  patientId?: string;
  reason?: string;
  /** Unverified only: SHA-256 of the live link's token, and when it stops working. */
  tokenHash?: string;
  linkExpiresAt?: string;
  /** When the request (and the person's data) is gone: every read checks it. */
  deleteAt: string;
  version: number;
}

/** One change, all or nothing. The adapter moves the staff list entry with the status. */
export interface RequestWrite {
  request: { next: StoredRequest; previous?: StoredRequest };
  /** The address's "one open request" item: claim it for this request until `deleteAt`, or free it. */
  openRequest?: 'claim' | 'free';
  putPointer?: { tokenHash: string; requestId: string; expiresAt: string };
  deletePointer?: string;
  /** Approve: the record, with its version condition. */
  record?: { next: StoredRecord; expectedVersion: number };
  /** Approve: the email-match link (state, pointer, old pointer) in the same transaction. */
  link?: Pick<LinkWrite<{ emailHash: string }>, 'state' | 'putPointer' | 'deletePointer'>;
  audit?: AuditEvent;
}

export interface SelfRegistrationStore {
  get(requestId: string): Promise<StoredRequest | undefined>;
  /** The address's open request, if any (its id and until when it holds the address). */
  openRequest(emailHash: string): Promise<{ requestId: string; deleteAt: string } | undefined>;
  /** The live link pointer behind a token hash. */
  findLink(tokenHash: string): Promise<{ requestId: string; expiresAt: string } | undefined>;
  /** The staff list of one status, oldest first. */
  list(status: SelfRegistrationStatus, cursor: string | undefined, limit: number): Promise<Page<StoredRequest>>;
  /** Throws the `version-conflict` DomainError when the request, the record, the link or the address's claim moved since read. */
  write(change: RequestWrite): Promise<void>;
}

export type Warn = (msg: string, fields: Record<string, string | number>) => void;

export interface SelfRegistrationDeps {
  store: RecordStore;
  requests: SelfRegistrationStore;
  throttle: ThrottleStore;
  mailer: Mailer;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
  /** Names and numbers only, never an address, a name or a token (rule 20). */
  warn?: Warn;
  /** The equal-time floor (rule 13); tests pass their own. */
  timing?: EqualTime;
}

export interface ApproveDeps extends Omit<SelfRegistrationDeps, 'throttle' | 'timing'> {
  matches: Pick<EmailMatchStore, 'get'>;
}

// ------------------------------------------------------------------------------ helpers

const normalise = (email: string) => email.trim().toLowerCase();
export const requestEmailHash = (email: string) => sha256(`self-registration:${normalise(email)}`);

export const selfRegisterLink = (portalUrl: string, token: string): string =>
  `${portalUrl.replace(/\/+$/, '')}/portal/self-register#token=${encodeURIComponent(token)}`;

/** Hashed throttle keys (never an address in clear): the address's per hour, the source's per window. */
export function selfRegistrationKeys(target: string, sourceIp: string, now: Date) {
  const hour = Math.floor(now.getTime() / HOUR_MS);
  const window = Math.floor(now.getTime() / 1000 / selfRegistrationLimits.addressWindowSeconds);
  return { accountKey: sha256(`self-registration:target:${target}:${hour}`), addressKey: sha256(`self-registration:address:${sourceIp}:${window}`) };
}

/** Still there: DynamoDB's TTL is lazy (and absent locally), so every read asks the time itself. */
export const isLive = (request: StoredRequest | undefined, now: Date): request is StoredRequest =>
  request !== undefined && Date.parse(request.deleteAt) > now.getTime();

const at = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();

const requestTarget = (requestId: string) => `self-registration:${requestId}`;

const errorName = (err: unknown) => (err instanceof Error ? (err instanceof DomainError ? err.code : err.name) : 'unknown');

/** The request as staff see it: no hashes, no link state. */
export function presentRequest(r: StoredRequest): SelfRegistration {
  return {
    requestId: r.requestId,
    firstName: r.firstName,
    lastName: r.lastName,
    dateOfBirth: r.dateOfBirth,
    email: r.email,
    ...(r.phone ? { phone: r.phone } : {}),
    status: r.status === 'Unverified' ? 'Pending' : r.status,
    createdAt: r.createdAt,
    ...(r.verifiedAt ? { verifiedAt: r.verifiedAt } : {}),
    ...(r.decidedAt ? { decidedAt: r.decidedAt } : {}),
    ...(r.decidedBy ? { decidedBy: r.decidedBy } : {}),
    ...(r.patientId ? { patientId: r.patientId } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    deleteAt: r.deleteAt,
  };
}

async function enabledSettings(deps: Pick<SelfRegistrationDeps, 'store' | 'settingsDefaults'>) {
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  if (!settings.selfRegistration) throw selfRegistrationOff();
  return settings;
}

// ------------------------------------------------------------------------------ request

/** POST /self-registrations: the one 202 after the floor; 404 where the practice has the form off; 429 past the address budget. */
export async function requestSelfRegistration(
  deps: SelfRegistrationDeps,
  form: SelfRegistrationRequest & { sourceIp: string },
): Promise<SelfRegistrationAccepted> {
  // The setting is not a secret about anyone: answered at once, like an unknown route.
  const settings = await enabledSettings(deps);
  await withEqualTime(deps.timing ?? realTime(SELF_REGISTRATION_FLOOR_MS), () => acceptAndSend(deps, form, settings), (spent) => {
    if (spent.overran) deps.warn?.('self-registration request overran its time floor', { spentMs: spent.workMs, floorMs: spent.floorMs });
  });
  return selfRegistrationAccepted;
}

/**
 * The work every request does (two counters read and bumped, the address's open request read),
 * then the write and the email. DynamoDB calls: 1 Get (settings) + 2 Get + 2 Update (counters) +
 * 1 Get (open request) [+ 1 Get (that request)] + 1 TransactWrite; SES once.
 */
async function acceptAndSend(deps: SelfRegistrationDeps, form: SelfRegistrationRequest & { sourceIp: string }, settings: { practiceName: string; portalUrl: string }): Promise<void> {
  const now = deps.clock();
  const email = form.email.trim();
  const hash = requestEmailHash(email);
  const keys = selfRegistrationKeys(hash, form.sourceIp, now);
  const { account, addressFailures } = await deps.throttle.read(keys.accountKey, keys.addressKey);
  if (addressFailures >= selfRegistrationLimits.requestsPerAddressPerWindow) throw tooMany(now);
  await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
  if ((account?.failures ?? 0) >= selfRegistrationLimits.requestsPerEmailPerHour) return;
  try {
    const open = await deps.requests.openRequest(hash);
    const current = open && Date.parse(open.deleteAt) > now.getTime() ? await deps.requests.get(open.requestId) : undefined;
    const live = isLive(current, now) ? current : undefined;
    // Waiting for staff already: nothing new is sent (the same 202).
    if (live && live.status !== 'Unverified') return;
    const token = opaqueToken();
    const tokenHash = sha256(token);
    const linkExpiresAt = at(now, SELF_REGISTRATION_LINK_HOURS * HOUR_MS);
    // An unproved request for this address is replaced: new data, new link, the old link dead.
    const next: StoredRequest = {
      requestId: live?.requestId ?? randomUUID(),
      status: 'Unverified',
      firstName: form.firstName,
      lastName: form.lastName,
      dateOfBirth: form.dateOfBirth,
      email,
      emailHash: hash,
      ...(form.phone ? { phone: form.phone } : {}),
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      tokenHash,
      linkExpiresAt,
      deleteAt: linkExpiresAt,
      version: (live?.version ?? 0) + 1,
    };
    await deps.requests.write({
      request: { next, ...(live ? { previous: live } : {}) },
      openRequest: 'claim',
      putPointer: { tokenHash, requestId: next.requestId, expiresAt: linkExpiresAt },
      ...(live?.tokenHash ? { deletePointer: live.tokenHash } : {}),
    });
    await deps.mailer.send({ to: email, ...selfRegistrationLinkEmail({ practiceName: settings.practiceName, link: selfRegisterLink(settings.portalUrl, token), expiresAt: linkExpiresAt }) });
  } catch (err) {
    // Answering anything but the one 202 would tell one path from another (rule 13).
    deps.warn?.('self-registration link not sent', { errorName: errorName(err) });
  }
}

// ------------------------------------------------------------------------------ verify

/**
 * POST /self-registrations/verify: the address is proved, the request waits for staff, and the
 * practice is told (where it asked to be). A used, replaced, expired or unknown link: the one 410.
 */
export async function verifySelfRegistration(deps: SelfRegistrationDeps, attempt: { token: string; sourceIp: string }): Promise<{ status: 'Pending' }> {
  await enabledSettings(deps);
  const now = deps.clock();
  const tokenHash = sha256(attempt.token);
  const keys = selfRegistrationKeys(`link:${tokenHash}`, attempt.sourceIp, now);
  const { addressFailures } = await deps.throttle.read(keys.accountKey, keys.addressKey);
  if (addressFailures >= selfRegistrationLimits.requestsPerAddressPerWindow) throw tooMany(now);
  const gone = async () => {
    await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
    return selfRegistrationLinkGone();
  };
  const pointer = await deps.requests.findLink(tokenHash);
  const current = pointer ? await deps.requests.get(pointer.requestId) : undefined;
  if (
    !pointer ||
    !isLive(current, now) ||
    current.status !== 'Unverified' ||
    current.tokenHash !== tokenHash ||
    !current.linkExpiresAt ||
    Date.parse(current.linkExpiresAt) <= now.getTime()
  ) {
    throw await gone();
  }
  const { tokenHash: _hash, linkExpiresAt: _until, ...kept } = current;
  const next: StoredRequest = {
    ...kept,
    status: 'Pending',
    verifiedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    deleteAt: at(now, SELF_REGISTRATION_PENDING_DAYS * DAY_MS),
    version: current.version + 1,
  };
  try {
    await deps.requests.write({
      request: { next, previous: current },
      openRequest: 'claim',
      deletePointer: tokenHash,
      audit: auditEvent({ id: 'anonymous', sourceIp: attempt.sourceIp }, requestTarget(current.requestId), 'self-registration.verified', now, {
        pendingDays: SELF_REGISTRATION_PENDING_DAYS,
      }),
    });
  } catch (err) {
    // The same link opened twice at once, or replaced meanwhile: whoever lost sees a used link.
    if (err instanceof DomainError && err.code === 'version-conflict') throw await gone();
    throw err;
  }
  await notifyPractice({ store: deps.store, settingsDefaults: deps.settingsDefaults, mailer: deps.mailer, ...(deps.warn ? { warn: deps.warn } : {}) }, 'awaiting-approval');
  return { status: 'Pending' };
}

// ------------------------------------------------------------------------------ staff

/** GET /self-registrations?status=: oldest first; expired requests are never shown, whatever the table still holds. */
export async function listSelfRegistrations(
  deps: Pick<SelfRegistrationDeps, 'requests' | 'clock'>,
  query: { status?: SelfRegistrationStatus; cursor?: string; limit: number },
): Promise<SelfRegistrationPage> {
  const status = query.status ?? 'Pending';
  const page = await deps.requests.list(status, query.cursor, query.limit);
  const now = deps.clock();
  const items = page.items.filter((r) => isLive(r, now) && r.status === status).map(presentRequest);
  return { items, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** The Pending request to decide on, or 404 / 409. */
async function pendingRequest(requests: SelfRegistrationStore, requestId: string, now: Date): Promise<StoredRequest> {
  const current = await requests.get(requestId);
  if (!isLive(current, now) || current.status === 'Unverified') throw requestNotFound();
  if (current.status !== 'Pending') throw alreadyDecided();
  return current;
}

const decided = (current: StoredRequest, status: 'Approved' | 'Rejected', actor: Actor, now: Date, extra: Partial<StoredRequest>): StoredRequest => ({
  ...current,
  ...extra,
  status,
  decidedAt: now.toISOString(),
  decidedBy: actor.id,
  updatedAt: now.toISOString(),
  deleteAt: at(now, SELF_REGISTRATION_DECIDED_DAYS * DAY_MS),
  version: current.version + 1,
});

/**
 * POST /self-registrations/{requestId}/approve {patientId}. One transaction (request, record,
 * email-match link, audit), then the email. An email SES refused is logged and audited; the
 * approval stands (staff can invite the record as usual).
 */
export async function approveSelfRegistration(deps: ApproveDeps, actor: Actor, requestId: string, patientId: string): Promise<PortalRecord> {
  requireInvitePermission(actor);
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  const done = await retryOnConflict(async () => {
    const now = deps.clock();
    const current = await pendingRequest(deps.requests, requestId, now);
    const [record, link] = await Promise.all([deps.store.getRecord(patientId), deps.matches.get(patientId)]);
    if (record?.accountId) throw alreadyRegistered();
    if (record && !record.accessEnabled) throw accessOff();
    if (link?.lease && Date.parse(link.lease.until) > now.getTime()) throw linkInProgress();
    const base = record ?? newRecord(patientId, now);
    // The request's address on the record: an email change bumps the generation like any staff edit (rule 29).
    const { next: edited, changed } = applyChange(base, { email: current.email }, now);
    const nextRecord: StoredRecord = { ...edited, updatedAt: now.toISOString(), version: base.version + 1 };
    const issued = newLink(emailMatchPolicy, {
      record: nextRecord,
      current: link,
      now,
      settings,
      data: { emailHash: emailMatchHash(current.email) },
      ...(link?.accountId ? { accountId: link.accountId } : {}),
    });
    await deps.requests.write({
      request: { next: decided(current, 'Approved', actor, now, { patientId }), previous: current },
      openRequest: 'free',
      record: { next: nextRecord, expectedVersion: base.version },
      link: issued.write,
      audit: auditEvent(actor, patientTarget(patientId), 'self-registration.approved', now, {
        requestId,
        recordCreated: record === undefined,
        changed,
        linkHours: 24,
      }),
    });
    return { record: nextRecord, token: issued.token, expiresAt: issued.state.expiresAt, email: current.email, now };
  });
  try {
    await deps.mailer.send({
      to: done.email,
      ...selfRegistrationApprovedEmail({ practiceName: settings.practiceName, link: verifyLink(settings.portalUrl, done.token), expiresAt: done.expiresAt }),
    });
  } catch (err) {
    deps.warn?.('self-registration approval email not sent', { errorName: errorName(err) });
    await deps.store
      .appendAudit(auditEvent(actor, patientTarget(patientId), 'self-registration.approval-email-failed', deps.clock(), { requestId }, 'failure'))
      .catch(() => undefined);
  }
  return present(done.record, done.now);
}

/** POST /self-registrations/{requestId}/reject {reason}: audited; the person is told in words that reveal no record. */
export async function rejectSelfRegistration(
  deps: Omit<ApproveDeps, 'matches'>,
  actor: Actor,
  requestId: string,
  reason: string,
): Promise<SelfRegistrationRejected> {
  requireInvitePermission(actor);
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  const done = await retryOnConflict(async () => {
    const now = deps.clock();
    const current = await pendingRequest(deps.requests, requestId, now);
    const next = decided(current, 'Rejected', actor, now, { reason: reason.trim() });
    await deps.requests.write({
      request: { next, previous: current },
      openRequest: 'free',
      // The reason stays with the request (deleted with it); the audit names only its length.
      audit: auditEvent(actor, requestTarget(requestId), 'self-registration.rejected', now, { reasonLength: reason.trim().length }),
    });
    return next;
  });
  try {
    await deps.mailer.send({ to: done.email, ...selfRegistrationDeclinedEmail({ practiceName: settings.practiceName }) });
  } catch (err) {
    deps.warn?.('self-registration decline email not sent', { errorName: errorName(err) });
  }
  return { requestId, status: 'Rejected', deleteAt: done.deleteAt };
}
