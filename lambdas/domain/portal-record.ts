/**
 * The portal record (the "binder"): one per patient. The stored shape holds facts; the status
 * fields and the status message are derived from them at read time, so they can never drift.
 */
import type { PortalRecord, PortalRecordChange } from '../schemas/portal-record.ts';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { notFound, retryOnConflict, versionConflict } from './errors.ts';
import type { Clock, Page, RecordStore } from './ports.ts';

/**
 * The record as stored: the contract's fields, less the derived ones, plus internal state that
 * is never shown to anyone (present() drops it).
 */
export type StoredRecord = Omit<PortalRecord, 'status' | 'statusMessage'> & {
  /** Sessions and tokens authenticated before this time are refused (revoke, credential change). */
  revokedAt?: string;
  /** The patient login's state that cognito-local cannot hold (see ../shared/emulators.md). */
  login?: {
    /** Temporary password or forced change: the next sign-in must set a new password. */
    mustChangePassword?: boolean;
    temporaryPasswordExpiresAt?: string;
  };
  /** Held by the one Register Patient under way (see registerWithTemporaryPassword). */
  registerLease?: { id: string; until: string };
};

/**
 * Tokens carry their sign-in time in whole seconds, so session cut-offs are whole seconds too:
 * a sign-in right after a registration or re-enable, in the same second, must still work. A
 * token from the same second before the cut-off survives only where nothing else refuses it
 * (revoke also turns access off; a new registration also requires a new password).
 */
export const wholeSecond = (now: Date) => new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();

const registrationLabel = {
  NotRegistered: 'Not Registered',
  ForcedRegistration: 'Forced Registration',
  NormalRegistration: 'Normal Registration',
} as const;

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
  const { revokedAt: _revokedAt, login: _login, registerLease: _lease, ...shown } = record;
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
  // Turning access off ends every session for good, not only while access stays off.
  if (current.accessEnabled && next.accessEnabled === false) next.revokedAt = wholeSecond(now);
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

export async function readRecord({ store, clock }: RecordDeps, patientId: string): Promise<PortalRecord> {
  const record = await store.getRecord(patientId);
  if (!record) throw notFound('The portal record');
  return present(record, clock());
}

/**
 * Creates or edits a record. With `ifMatch`, the change applies only to that version (409
 * otherwise). Without it, a concurrent writer is retried on the fresh record, so no edit is lost.
 * An edit that changes nothing writes nothing and audits nothing.
 */
export async function editRecord(
  { store, clock }: RecordDeps,
  actor: Actor,
  patientId: string,
  change: PortalRecordChange,
  ifMatch: number | undefined,
): Promise<{ record: PortalRecord; created: boolean }> {
  // With If-Match the caller asked for exactly one version: a lost race is their 409, not a retry.
  return retryOnConflict(async () => {
    const now = clock();
    const current = await store.getRecord(patientId);
    if (ifMatch !== undefined && (current?.version ?? 0) !== ifMatch) throw versionConflict();
    const { next, changed } = applyChange(current ?? newRecord(patientId, now), change, now);
    if (current && changed.length === 0) return { record: present(current, now), created: false };
    if (!current) next.version = 1;
    const action = current ? 'portal-record.updated' : 'portal-record.created';
    await store.saveRecord(next, current?.version ?? 0, auditEvent(actor, patientTarget(patientId), action, now, { fields: changed }));
    return { record: present(next, now), created: !current };
  }, ifMatch === undefined ? undefined : 1);
}

export async function searchRecords(
  { store, clock }: RecordDeps,
  query: string | undefined,
  cursor: string | undefined,
  limit: number,
): Promise<Page<PortalRecord>> {
  const page = await store.searchRecords(query, cursor, limit);
  const now = clock();
  return { items: page.items.map((r) => present(r, now)), ...(page.cursor ? { cursor: page.cursor } : {}) };
}
