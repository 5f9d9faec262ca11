/**
 * The portal record (the "binder"): one per patient. The stored shape holds facts; the status
 * fields and the status message are derived from them at read time, so they can never drift.
 */
import { emailChangedEmail } from '../mail/templates.ts';
import type { PortalRecord, PortalRecordChange } from '../schemas/portal-record.ts';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError, notFound, retryOnConflict, versionConflict } from './errors.ts';
import type { Mailer } from './invitations.ts';
import { permissionsOf } from './permissions.ts';
import type { Clock, Page, RecordStore } from './ports.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';

/**
 * The record as stored: the contract's fields, less the derived ones, plus internal state that
 * is never shown to anyone (present() drops it).
 */
export type StoredRecord = Omit<PortalRecord, 'status' | 'statusMessage'> & {
  /**
   * When sessions were last ended (revoke, access off, a credential change): for the audit trail
   * and support only. It decides nothing: the generation below does (rule 17, rule 29).
   */
  revokedAt?: string;
  /** The patient login's state that cognito-local cannot hold (see ../shared/emulators.md). */
  login?: {
    /** Temporary password or forced change: the next sign-in must set a new password. */
    mustChangePassword?: boolean;
    temporaryPasswordExpiresAt?: string;
  };
  /** Held by the one Register Patient under way (see registerWithTemporaryPassword). */
  registerLease?: { id: string; until: string };
  /**
   * THE revocation rule (rule 17, rule 29): the record's generation. Revoke, access off, a
   * credential change (password or username change, a new login by Register Patient or a
   * registration, a reset, a forced change) and an email change bump it. Every session — patient
   * access token (its `portal_generation` claim, see lambdas/triggers/pre-token-generation.ts),
   * lobby session and lobby password, new-password step — and every invitation, reset and
   * email-match link carries the generation it was opened or issued under, and works only while
   * that is still exactly the record's. Compared for equality: no clock, no whole second, no
   * tie-break; turning access on again brings no old number back. Stored under its first name
   * (links came first). Absent: 0.
   */
  linkGeneration?: number;
};

/** The record's current generation: the one revocation counter of sessions and links (rule 17, rule 29). */
export const linkGenerationOf = (record: StoredRecord): number => record.linkGeneration ?? 0;

/** The same counter, by the name session code reads it under. */
export const sessionGenerationOf = linkGenerationOf;

/**
 * Whether a link stamped with `stamp` when it was issued may still be looked up, used or
 * committed on this record: only while nothing has bumped the generation since. Exact, so no
 * clock, no whole-second tie and no "same version" special case decides it.
 */
export const linksStillLive = (stamp: number | undefined, record: StoredRecord): boolean => (stamp ?? 0) === linkGenerationOf(record);

/**
 * Whether a session opened under generation `stamp` is still live on this record. Stricter than
 * linksStillLive about absence: a session that carries no generation (a token refreshed at
 * Cognito, a token minted by anything but our sign-in, a session item from before the rule) is
 * refused, never read as 0.
 */
export const sessionStillLive = (stamp: unknown, record: StoredRecord): boolean =>
  typeof stamp === 'number' && Number.isSafeInteger(stamp) && stamp === sessionGenerationOf(record);

/**
 * Ends every session and every pending link of the record (rule 17, rule 29): the one way a
 * record's sessions are cut off. `revokedAt` is only remembered (audit, support); the bumped
 * generation is what every check compares.
 */
export const revokeSessionsAndLinks = (record: StoredRecord, revokedAt: string): Pick<StoredRecord, 'revokedAt' | 'linkGeneration'> => ({
  revokedAt,
  linkGeneration: linkGenerationOf(record) + 1,
});

const registrationLabel = {
  NotRegistered: 'Not Registered',
  ForcedRegistration: 'Forced Registration',
  NormalRegistration: 'Normal Registration',
} as const;

/** `registeredAt` for a commit that gives the record a login: set once, when the first login is made (issue 19). */
export const firstLoginStamp = (current: StoredRecord, at: Date): Pick<StoredRecord, 'registeredAt'> =>
  current.accountId || current.registeredAt ? {} : { registeredAt: at.toISOString() };

export function newRecord(patientId: string, now: Date): StoredRecord {
  const at = now.toISOString();
  return {
    patientId,
    accessEnabled: true,
    cases: [],
    registration: 'NotRegistered',
    invite: { status: 'None' },
    createdAt: at,
    updatedAt: at,
    version: 0,
  };
}

/** The record as staff see it: a pending invitation past its expiry reads as Expired. */
export function present(record: StoredRecord, now: Date): PortalRecord {
  const inviteStatus =
    record.invite.status === 'Pending' && record.invite.expiresAt !== undefined && Date.parse(record.invite.expiresAt) <= now.getTime()
      ? 'Expired'
      : record.invite.status;
  const status = {
    access: record.accessEnabled ? ('Enabled' as const) : ('Disabled' as const),
    registration: registrationLabel[record.registration],
    // "Invite" once an invitation has gone out, until it is cancelled.
    invite: inviteStatus === 'None' || inviteStatus === 'Cancelled' ? ('No Invite' as const) : ('Invite' as const),
  };
  const { revokedAt: _revokedAt, login: _login, registerLease: _lease, linkGeneration: _generation, ...shown } = record;
  return {
    ...shown,
    invite: { ...record.invite, status: inviteStatus },
    status,
    statusMessage: `${status.access} / ${status.registration} / ${status.invite}`,
  };
}

const editableFields = ['email', 'phone', 'masterCase', 'accessEnabled', 'cases', 'comment'] as const;

/** Applies a staff edit; returns the new record and the names of the fields that really changed. */
export function applyChange(current: StoredRecord, change: PortalRecordChange, now: Date): { next: StoredRecord; changed: string[] } {
  const next: StoredRecord = { ...current };
  const changed: string[] = [];
  for (const field of editableFields) {
    const value = change[field];
    if (value === undefined) continue;
    const normalised = field === 'cases' && Array.isArray(value) ? [...new Set(value)] : value;
    if (JSON.stringify(current[field]) === JSON.stringify(normalised ?? undefined)) continue;
    if (normalised === null) delete next[field];
    else (next as Record<string, unknown>)[field] = normalised;
    changed.push(field);
  }
  // Rule 17, rule 29: access off or a new address ends every session and kills every pending link
  // of the record for good (one bump; turning access on again revives nothing). A pending (or
  // locked) invitation reads Cancelled, as after a revoke: its PIN is dead too, and staff invite
  // afresh (a resend would revive the PIN).
  const accessOff = current.accessEnabled && next.accessEnabled === false;
  if (accessOff || changed.includes('email')) {
    next.linkGeneration = linkGenerationOf(current) + 1;
    // Remembered for support when access goes off (as a revoke does); an email change only bumps.
    if (accessOff) next.revokedAt = now.toISOString();
    if (current.invite.status === 'Pending' || current.invite.status === 'Locked') next.invite = { ...current.invite, status: 'Cancelled' };
  }
  // What SES said about mail to the old address says nothing about the new one (the diagnosis reads it).
  if (changed.includes('email')) delete next.emailDelivery;
  if (changed.length > 0) {
    next.updatedAt = now.toISOString();
    next.version = current.version + 1;
  }
  return { next, changed };
}

export interface RecordDeps {
  store: RecordStore;
  clock: Clock;
}

/** Editing a record can email the old address (rule 29), so it needs the mailer and the practice name. */
export interface EditRecordDeps extends RecordDeps {
  mailer: Mailer;
  settingsDefaults: SettingsDefaults;
  /** Names only: never an address. */
  warn?: (msg: string, fields: Record<string, string>) => void;
}

/** Who is editing: their own role decides what they may change (rule 28). */
export type Editor = Actor;

const emailChangeForbidden = () =>
  new DomainError(
    'forbidden',
    'forbidden',
    "Only staff who may invite patients (or an admin) can change the email address of a patient who has a portal login, or of any patient while the email-match sign-up is on. Ask a colleague with invite permission.",
  );

export async function readRecord({ store, clock }: RecordDeps, patientId: string): Promise<PortalRecord> {
  const record = await store.getRecord(patientId);
  if (!record) throw notFound('The portal record');
  return present(record, clock());
}

/**
 * Creates or edits a record. With `ifMatch`, the change applies only to that version (409
 * otherwise). Without it, a concurrent writer is retried on the fresh record, so no edit is lost.
 * An edit that changes nothing writes nothing and audits nothing.
 *
 * Rule 29: the email of a record that has a login is changed only by an admin or by staff with
 * invite permission (403 in words otherwise): whoever sets it can send that login's resets to
 * themselves. A changed email and access turned off kill the record's pending links
 * (applyChange), and the old address of a registered record gets a notice (no secret, no link)
 * after the commit, best effort: a lost notice is audited, never a failed edit.
 */
export async function editRecord(
  deps: EditRecordDeps,
  editor: Editor,
  patientId: string,
  change: PortalRecordChange,
  ifMatch: number | undefined,
): Promise<{ record: PortalRecord; created: boolean }> {
  const { store, clock } = deps;
  const actor: Actor = { id: editor.id, sourceIp: editor.sourceIp };
  // The caller's own permissions, which came with their checked token (rule 28); the admin role may always.
  const mayChangeLoginEmail = permissionsOf(editor).canInvite;
  // With If-Match the caller asked for exactly one version: a lost race is their 409, not a retry.
  const done = await retryOnConflict(async () => {
    const now = clock();
    const current = await store.getRecord(patientId);
    if (ifMatch !== undefined && (current?.version ?? 0) !== ifMatch) throw versionConflict();
    const { next, changed } = applyChange(current ?? newRecord(patientId, now), change, now);
    if (current && changed.length === 0) return { record: present(current, now), created: false, notify: undefined };
    const loginEmailChanged = current?.accountId !== undefined && changed.includes('email');
    if (loginEmailChanged && !mayChangeLoginEmail) throw emailChangeForbidden();
    // With the email-match method on, the email of a record without a login is the way to one: whoever
    // sets it can register that patient's login from their own mailbox. It is then an invitation in
    // all but name, and needs the same permission (rule 29's reasoning, one step earlier).
    if (changed.includes('email') && !loginEmailChanged && !mayChangeLoginEmail && next.email !== undefined) {
      const { settings } = await readSettings({ store, defaults: deps.settingsDefaults });
      if (settings.emailMatch) throw emailChangeForbidden();
    }
    if (!current) next.version = 1;
    const action = current ? 'portal-record.updated' : 'portal-record.created';
    const linksKilled = (next.linkGeneration ?? 0) !== (current?.linkGeneration ?? 0);
    await store.saveRecord(next, current?.version ?? 0, auditEvent(actor, patientTarget(patientId), action, now, { fields: changed, ...(linksKilled ? { linksKilled } : {}) }));
    const notify = loginEmailChanged && current?.email ? { to: current.email, at: now } : undefined;
    return { record: present(next, now), created: !current, notify };
  }, ifMatch === undefined ? undefined : 1);
  if (done.notify) await noticeEmailChanged(deps, actor, patientId, done.notify);
  return { record: done.record, created: done.created };
}

/** The old address is told (rule 29). Best effort: the change stands either way. */
async function noticeEmailChanged(deps: EditRecordDeps, actor: Actor, patientId: string, notice: { to: string; at: Date }): Promise<void> {
  try {
    const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
    await deps.mailer.send({ to: notice.to, ...emailChangedEmail({ practiceName: settings.practiceName, at: notice.at.toISOString() }) });
  } catch (err) {
    deps.warn?.('email-changed notice failed', { errorName: err instanceof Error ? err.name : 'unknown' });
    await deps.store
      .appendAudit(auditEvent(actor, patientTarget(patientId), 'portal-record.email-notice-failed', deps.clock(), {}, 'failure'))
      .catch(() => undefined);
  }
}

export async function searchRecords(
  { store, clock }: RecordDeps,
  query: string | undefined,
  cursor: string | undefined,
  limit: number,
  registeredSince?: string,
): Promise<Page<PortalRecord>> {
  const since = registeredSince === undefined ? undefined : new Date(registeredSince).toISOString();
  const page = await store.searchRecords(query, cursor, limit, since ? { registeredSince: since } : undefined);
  const now = clock();
  const items = since ? page.items.filter((r) => r.registeredAt !== undefined && r.registeredAt >= since) : page.items;
  return { items: items.map((r) => present(r, now)), ...(page.cursor ? { cursor: page.cursor } : {}) };
}
