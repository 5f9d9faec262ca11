/**
 * Invitations, staff side: invite, resend, cancel, and show the PIN again (security rules 9,
 * 10, 12, 14, 18, 24, 25). The patient side (check a link, register) is in registration.ts.
 * An invitation is a one-time link (one-time-link.ts) under `invitationPolicy`: lifetime
 * settings.invitationDays, one secret (the PIN, sealed by the PinVault so staff can show it
 * again), 5 wrong PINs lock it, and locking marks the record's invite Locked.
 *
 * State lives in three places, always changed together in one transaction:
 *   - the portal record's `invite` fields, which staff see (status, sentAt, expiresAt, sentBy,
 *     delivery);
 *   - the link state, one per patient (the current invitation; its linkId is the invitation's
 *     id): the SHA-256 of the live link token, the sealed PIN, the wrong-PIN counter, and the
 *     registration in progress (its lease and the accountId it will create);
 *   - the pointer, one per live token, found by the token's hash: it names the patient and the
 *     invitation, so a token can never act on another patient's invitation (rule 9).
 * The token itself is never stored; the PIN only sealed (rule 10).
 *
 * Email goes out after the state is committed, with `delivery: "Failed"` until SES has taken
 * it: a crash or an SES refusal leaves a visible Failed mark and a working resend, never a lost
 * email that looks sent (rule 24).
 */
import { randomUUID } from 'node:crypto';
import { newPin, opaqueToken, pinsEqual, readableAlphabet, sha256 } from './secrets.ts';
import { invitationEmail } from '../mail/templates.ts';
import type { PortalRecord } from '../schemas/portal-record.ts';
import type { Settings } from '../schemas/settings.ts';
import { deliveryEventMarked } from './delivery.ts';
import { auditEvent, patientTarget, type Actor, type AuditEvent } from './audit.ts';
import { DomainError, notFound, retryOnConflict, versionConflict } from './errors.ts';
import { deathOf, ended, newLink, type LinkPolicy, type LinkSecret, type LinkState, type LinkStore } from './one-time-link.ts';
import { requireInvitePermission } from './permissions.ts';
import { linksStillLive, present, type StoredRecord } from './portal-record.ts';
import { readTogether, type Clock, type RecordStore } from './ports.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import { requireAddressUnderLimit, throttledSignIn, throttleKeys, type ThrottleDeps } from './sign-in-throttle.ts';

// ------------------------------------------------------------------------------ secrets

/** 6 characters from an alphabet without look-alikes: no 0/O, no 1/I/L (31 symbols, ~29.7 bits). */
export const PIN_ALPHABET = readableAlphabet;
/** The 5th wrong PIN locks the invitation (rule 7). */
export const MAX_PIN_FAILURES = 5;
/** Longer than a function may run (10 s), so a lease outlives only a crashed attempt, briefly. */
export const LEASE_SECONDS = 30;

/** 256 bits from the CSPRNG, base64url (43 characters). Rule 9 asks for at least 128. */
export const newLinkToken = opaqueToken;

/** What is stored and looked up instead of the token (rule 9: SHA-256 is enough at that entropy). */
export const hashToken = sha256;

// PIN making, normalising and constant-time comparison live in secrets.ts (rule 10); kept here by name.
export { newPin, normalisePin, pinsEqual, PIN_LENGTH } from './secrets.ts';

// ------------------------------------------------------------------------------ ports

/** Seals invitation PINs so staff can see them again (rule 10): KMS in AWS, a key file locally. */
export interface PinVault {
  seal(pin: string, context: PinContext): Promise<string>;
  open(sealed: string, context: PinContext): Promise<string>;
}

/** Binds a sealed PIN to its invitation: a sealed value copied elsewhere does not open. */
export interface PinContext {
  patientId: string;
  invitationId: string;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
}

/** The current invitation of one patient: a one-time link state (`linkId` is the invitation's id, `secrets.pin` the sealed PIN). */
export type Invitation = LinkState;
/** Where invitations live: the link store of `invitationPolicy`'s key space (adapters/dynamo-invitations.ts). */
export type InvitationLinks = LinkStore;

// ------------------------------------------------------------------------------ errors

export const invitationConflict = () =>
  new DomainError('conflict', 'invitation-conflict', 'Someone else changed this invitation at the same moment. Read the record again.');

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

const wrongPhoneCode = (locked: boolean) =>
  new DomainError(
    'unauthorized',
    'wrong-phone-code',
    locked
      ? 'The code is not right. After too many wrong tries this link no longer works: ask the practice to send you a new one.'
      : 'The code is not right, or it is more than 10 minutes old. Check the text, or ask for a new code.',
  );

export const registrationInProgress = () =>
  new DomainError('conflict', 'registration-in-progress', 'A registration with this link is already under way. Wait a moment, then try again.');

const alreadyRegistered = () =>
  new DomainError('conflict', 'already-registered', 'This patient already has a portal login. Use a credential reset instead.');

const accessDisabled = () =>
  new DomainError('conflict', 'access-disabled', 'Portal access is disabled for this patient. Enable it before inviting.');

const alreadyPending = () =>
  new DomainError('conflict', 'invitation-pending', 'An invitation is already pending for this patient. Resend it, or cancel it before inviting again.');

const noEmail = () =>
  new DomainError('unprocessable', 'no-email', 'The record has no email address. Add one before inviting.');

const noPendingInvitation = () => new DomainError('not-found', 'no-pending-invitation', 'This patient has no pending invitation.');

// ------------------------------------------------------------------------------ the policy

/** The policy's parts that need no vault: what the adapter, isLive and the link look-up use. */
export const invitationLinks = {
  kind: 'invitation',
  maxFailures: MAX_PIN_FAILURES,
  errors: { gone: linkGone, busy: registrationInProgress, wrongSecret: wrongPin, conflict: invitationConflict },
  // The record may have moved on by itself: a revoke (patient-access.ts) marks the record's
  // invite Cancelled and must keep the link dead even after access is enabled again.
  recordAllows: (record: StoredRecord) => record.invite.status === 'Pending' && record.accessEnabled && !record.accountId,
  throttle: {
    keys: (target: string, sourceIp: string, now: Date) => throttleKeys('invitation', target, sourceIp, now),
    requireUnder: requireAddressUnderLimit,
    // The PIN is a sign-in: limited per link and per address besides the link's own counter.
    guardCompare: (deps: ThrottleDeps, keys: { accountKey: string; addressKey: string }, compare: () => Promise<void>) => throttledSignIn(deps, keys, compare),
  },
} as const satisfies Pick<LinkPolicy, 'kind' | 'maxFailures' | 'errors' | 'recordAllows' | 'throttle'>;

/**
 * The invitation flow as a one-time link policy: lifetime, the PIN (checked against its opened
 * seal), locking. With `phoneCode` (issue 17, phone-codes.ts) the texted code is typed INSTEAD
 * of the PIN: the same link, the same 5-try counter, its own wrong-code words.
 */
export function invitationPolicy(vault: PinVault, phoneCode?: LinkSecret): LinkPolicy {
  return {
    ...invitationLinks,
    ...(phoneCode ? { errors: { ...invitationLinks.errors, wrongSecret: wrongPhoneCode } } : {}),
    lifetimeMs: (settings) => settings.invitationDays * 24 * 60 * 60 * 1000,
    secrets: phoneCode ? [phoneCode] : [
      {
        name: 'pin',
        async matches(typed, sealed, state) {
          if (sealed === undefined) return false;
          return pinsEqual(await vault.open(sealed, { patientId: state.patientId, invitationId: state.linkId }), typed);
        },
      },
    ],
    leaseSeconds: LEASE_SECONDS,
    audit: { wrongSecret: 'registration.wrong-pin', locked: 'invitation.locked' },
    onLock: (record) => ({ ...record, invite: { ...record.invite, status: 'Locked' } }),
  };
}

// ------------------------------------------------------------------------------ staff operations

export interface InvitationDeps {
  store: RecordStore;
  invitations: InvitationLinks;
  vault: PinVault;
  mailer: Mailer;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
  /** Where a failed email is reported (names only: never the address). */
  warn?: (msg: string, fields: Record<string, string>) => void;
}

/**
 * A pending invitation that has neither expired nor locked, on a record that agrees it is
 * pending (one-time-link.ts deathOf under the invitation policy).
 */
export function isLive(
  invitation: Invitation | undefined,
  record: StoredRecord | undefined,
  now: Date,
): invitation is Invitation & { secrets: { pin: string } } {
  return invitation?.secrets?.pin !== undefined && deathOf(invitationLinks, { state: invitation, record }, now) === undefined;
}

export const registrationLink = (portalUrl: string, token: string): string =>
  `${portalUrl.replace(/\/+$/, '')}/portal/register#token=${encodeURIComponent(token)}`;

function requireInvitable(record: StoredRecord | undefined): asserts record is StoredRecord & { email: string } {
  if (!record) throw notFound('The portal record');
  if (record.accountId) throw alreadyRegistered();
  if (!record.accessEnabled) throw accessDisabled();
  if (!record.email) throw noEmail();
}

/** The record with a fresh pending invitation on it; delivery reads Failed until SES has the email. */
function withPendingInvite(record: StoredRecord, actor: Actor, now: Date, expiresAt: string): StoredRecord {
  return {
    ...record,
    invite: { status: 'Pending', sentAt: now.toISOString(), expiresAt, sentBy: actor.id, delivery: 'Failed' },
    updatedAt: now.toISOString(),
    version: record.version + 1,
  };
}

interface Sent {
  record: StoredRecord;
  token: string;
  expiresAt: string;
  settings: Settings;
  email: string;
}

/**
 * POST …/invitation: a new invitation (new link, new PIN), replacing an expired, locked,
 * cancelled or accepted-then-reset one. While one is pending it is 409 (resend or cancel it),
 * so duplicates give exactly one success (rule 25); two staff inviting at the very same moment
 * are told apart by the invitation's own version, and the loser gets 409 too. An unrelated edit
 * of the record meanwhile is simply retried.
 */
export async function sendInvitation(
  deps: InvitationDeps,
  actor: Actor,
  patientId: string,
  /** Extra audit detail, e.g. an auto-invite's trigger (auto-invite.ts). Field names and ids only. */
  auditDetail: AuditEvent['detail'] = {},
): Promise<{ pin: string; expiresAt: string; delivery: 'Sent' | 'Failed'; record: PortalRecord }> {
  requireInvitePermission(actor);
  const policy = invitationPolicy(deps.vault);
  const pin = newPin();
  let known: Settings | undefined;
  const sent = await retryOnConflict(async (): Promise<Sent> => {
    const now = deps.clock();
    // One read (issue 16): settings, record and invitation together; a retry reads the two that move.
    const [settings, record, current] = await readTogether(deps.store, () =>
      Promise.all([known ?? readSettings({ store: deps.store, defaults: deps.settingsDefaults }).then((r) => r.settings), deps.store.getRecord(patientId), deps.invitations.get(patientId)]),
    );
    known = settings;
    requireInvitable(record);
    if (isLive(current, record, now)) throw alreadyPending();
    const linkId = randomUUID();
    const sealedPin = await deps.vault.seal(pin, { patientId, invitationId: linkId });
    const issued = newLink(policy, { record, current, now, settings, linkId, secrets: { pin: sealedPin } });
    const { expiresAt } = issued.state;
    const next = withPendingInvite(record, actor, now, expiresAt);
    await deps.invitations.write({
      ...issued.write,
      record: { next, expectedVersion: record.version },
      audit: auditEvent(actor, patientTarget(patientId), 'invitation.created', now, { ...auditDetail, replaced: statusName(current), days: settings.invitationDays }),
    });
    return { record: next, token: issued.token, expiresAt, settings, email: record.email };
  });
  const { delivery, record } = await deliver(deps, actor, patientId, sent);
  return { pin, expiresAt: sent.expiresAt, delivery, record: present(record, deps.clock()) };
}

/** The audit trail's names for what an invitation replaced (as before the one-time-link module). */
const statusName = (state: Invitation | undefined) => (state === undefined ? 'None' : state.status === 'Used' ? 'Accepted' : state.status);

/** An invitation staff can still act on: pending, or locked by wrong PINs, on both sides. */
const open = (s: string | undefined) => s === 'Pending' || s === 'Locked';

/**
 * POST …/invitation/resend: a new link (the old one dies), the same PIN, a new expiry, the
 * wrong-PIN counter back to 0. Works for a pending, expired or locked invitation.
 */
export async function resendInvitation(
  deps: InvitationDeps,
  actor: Actor,
  patientId: string,
): Promise<{ expiresAt: string; delivery: 'Sent' | 'Failed'; record: PortalRecord }> {
  requireInvitePermission(actor);
  const policy = invitationPolicy(deps.vault);
  let known: Settings | undefined;
  const sent = await retryOnConflict(
    retryingInvitationConflicts(async (): Promise<Sent> => {
      const now = deps.clock();
      // One read (issue 16): settings, record and invitation together; a retry reads the two that move.
      const [settings, record, current] = await readTogether(deps.store, () =>
        Promise.all([known ?? readSettings({ store: deps.store, defaults: deps.settingsDefaults }).then((r) => r.settings), deps.store.getRecord(patientId), deps.invitations.get(patientId)]),
      );
      known = settings;
      if (!record) throw notFound('The portal record');
      if (record.accountId || current?.status === 'Used') throw alreadyRegistered();
      if (!current || !open(current.status) || !open(record.invite.status) || !current.secrets?.pin) throw noPendingInvitation();
      // Killed by an email change or access off (rule 29): a resend must not bring its PIN back.
      if (!linksStillLive(current.linkGeneration, record)) throw noPendingInvitation();
      requireInvitable(record);
      // The same invitation (its seal names the linkId) and PIN, and a login an unfinished registration fixed.
      const issued = newLink(policy, {
        record,
        current,
        now,
        settings,
        linkId: current.linkId,
        secrets: current.secrets,
        ...(current.accountId ? { accountId: current.accountId } : {}),
      });
      const { expiresAt } = issued.state;
      const next = withPendingInvite(record, actor, now, expiresAt);
      await deps.invitations.write({
        ...issued.write,
        record: { next, expectedVersion: record.version },
        audit: auditEvent(actor, patientTarget(patientId), 'invitation.resent', now, { wasLocked: current.status === 'Locked', days: settings.invitationDays }),
      });
      return { record: next, token: issued.token, expiresAt, settings, email: record.email };
    }),
  );
  const { delivery, record } = await deliver(deps, actor, patientId, sent);
  return { expiresAt: sent.expiresAt, delivery, record: present(record, deps.clock()) };
}

/** DELETE …/invitation: the link and the PIN stop working at once. */
export async function cancelInvitation(
  deps: Pick<InvitationDeps, 'store' | 'invitations' | 'clock'>,
  actor: Actor,
  patientId: string,
): Promise<PortalRecord> {
  requireInvitePermission(actor);
  return retryOnConflict(
    retryingInvitationConflicts(async () => {
      const now = deps.clock();
      const [record, current] = await Promise.all([deps.store.getRecord(patientId), deps.invitations.get(patientId)]);
      if (!record) throw notFound('The portal record');
      if (!current || !open(current.status) || !open(record.invite.status)) throw noPendingInvitation();
      const next: StoredRecord = {
        ...record,
        invite: { ...record.invite, status: 'Cancelled' },
        updatedAt: now.toISOString(),
        version: record.version + 1,
      };
      await deps.invitations.write({
        state: { next: ended(current, 'Cancelled'), expectedVersion: current.version },
        record: { next, expectedVersion: record.version },
        ...(current.tokenHash ? { deletePointer: current.tokenHash } : {}),
        audit: auditEvent(actor, patientTarget(patientId), 'invitation.cancelled', now, { was: current.status }),
      });
      return present(next, now);
    }),
  );
}

/** GET …/access-code: the pending PIN again, for a patient who lost it. Audited before it is shown. */
export async function showAccessCode(
  deps: Pick<InvitationDeps, 'store' | 'invitations' | 'vault' | 'clock'>,
  actor: Actor,
  patientId: string,
): Promise<{ pin: string; expiresAt: string }> {
  const now = deps.clock();
  const [record, invitation] = await Promise.all([deps.store.getRecord(patientId), deps.invitations.get(patientId)]);
  if (!record) throw notFound('The portal record');
  if (record.accountId || !isLive(invitation, record, now)) throw noPendingInvitation();
  const pin = await deps.vault.open(invitation.secrets.pin, { patientId, invitationId: invitation.linkId });
  // Written before the answer: a PIN view that cannot be audited is not shown.
  await deps.store.appendAudit(auditEvent(actor, patientTarget(patientId), 'invitation.pin-viewed', now));
  return { pin, expiresAt: invitation.expiresAt };
}

// ------------------------------------------------------------------------------ delivery

/**
 * Emails the link, then marks the record "Sent" (it was committed as "Failed"). An SES failure
 * leaves the Failed mark and an audit entry; the invitation stands and resend works.
 */
async function deliver(
  deps: InvitationDeps,
  actor: Actor,
  patientId: string,
  sent: Sent,
): Promise<{ delivery: 'Sent' | 'Failed'; record: StoredRecord }> {
  const message = invitationEmail({
    practiceName: sent.settings.practiceName,
    link: registrationLink(sent.settings.portalUrl, sent.token),
    expiresAt: sent.expiresAt,
  });
  let delivery: 'Sent' | 'Failed' = 'Sent';
  try {
    await deps.mailer.send({ to: sent.email, ...message });
  } catch (err) {
    delivery = 'Failed';
    deps.warn?.('invitation email failed', { errorName: err instanceof Error ? err.name : 'unknown' });
  }
  try {
    const record = await markDelivery(deps, actor, patientId, sent.record, delivery);
    return { delivery, record: record ?? sent.record };
  } catch (err) {
    // The email is out (or not) either way; the record still reads Failed, which only invites a harmless resend.
    deps.warn?.('invitation delivery not recorded', { errorName: err instanceof Error ? err.name : 'unknown' });
    return { delivery, record: sent.record };
  }
}

async function markDelivery(
  deps: InvitationDeps,
  actor: Actor,
  patientId: string,
  committed: StoredRecord,
  delivery: 'Sent' | 'Failed',
): Promise<StoredRecord | undefined> {
  const sentAt = committed.invite.sentAt!;
  // The record as this request committed it: the save is conditional on its version, so the first
  // attempt needs no read (issue 16); anything newer (an SES event, staff) makes it read and look again.
  let known: StoredRecord | undefined = committed;
  return retryOnConflict(async () => {
    const now = deps.clock();
    const record = known ?? (await deps.store.getRecord(patientId));
    known = undefined;
    // Only this invitation's mark: a later invite, resend or cancel has its own.
    const ours = record?.invite.status === 'Pending' && record.invite.sentAt === sentAt;
    const event = auditEvent(actor, patientTarget(patientId), 'invitation.emailed', now, { delivery }, delivery === 'Sent' ? 'success' : 'failure');
    // An SES event (Delivered, Bounced…) that got here first is newer news than our "Sent".
    if (!record || !ours || delivery === 'Failed' || deliveryEventMarked(record.invite, sentAt)) {
      await deps.store.appendAudit(event);
      return record;
    }
    const next: StoredRecord = { ...record, invite: { ...record.invite, delivery }, updatedAt: now.toISOString(), version: record.version + 1 };
    await deps.store.saveRecord(next, record.version, event);
    return next;
  });
}

/** For resend and cancel a concurrent change of the invitation is simply read again and retried. */
function retryingInvitationConflicts<T>(step: () => Promise<T>): () => Promise<T> {
  return async () => {
    try {
      return await step();
    } catch (err) {
      if (err instanceof DomainError && err.code === 'invitation-conflict') throw versionConflict();
      throw err;
    }
  };
}
