/**
 * What the domain needs from the outside world, as interfaces. Unit tests pass fakes; the
 * handlers pass the DynamoDB/Cognito adapters in lambdas/adapters/.
 */
import type { Settings } from '../schemas/settings.ts';
import type { StaffPermissions } from '../schemas/staff.ts';
import type { AuditEvent } from './audit.ts';
import type { StoredRecord } from './portal-record.ts';

export type Clock = () => Date;

export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** A versioned value. `version` 0 means "not stored yet". */
export interface Versioned<T> {
  value: T;
  version: number;
}

/**
 * Every save is conditional on the version the caller read (0: must not exist yet) and writes
 * its audit event in the same transaction: a change without its audit entry cannot happen.
 * A lost race throws the `version-conflict` DomainError.
 */
export interface RecordStore {
  getRecord(patientId: string): Promise<StoredRecord | undefined>;
  saveRecord(record: StoredRecord, expectedVersion: number, audit: AuditEvent): Promise<void>;
  searchRecords(query: string | undefined, cursor: string | undefined, limit: number): Promise<Page<StoredRecord>>;

  getSettings(): Promise<Versioned<Partial<Settings>> | undefined>;
  saveSettings(settings: Settings, expectedVersion: number, audit: AuditEvent): Promise<void>;

  getPermissions(staffId: string): Promise<Versioned<StaffPermissions> | undefined>;
  savePermissions(staffId: string, permissions: StaffPermissions, expectedVersion: number, audit: AuditEvent): Promise<void>;

  listAudit(target: string, cursor: string | undefined, limit: number): Promise<Page<AuditEvent>>;
  /** An audit event that goes with no state change (a sign-in, a refused attempt). */
  appendAudit(event: AuditEvent): Promise<void>;
}

export type SignInResult =
  | { kind: 'tokens'; accessToken: string; idToken: string; refreshToken: string; expiresIn: number }
  | { kind: 'challenge'; challenge: string; session: string };

export interface StaffDirectory {
  /** Password sign-in against the staff pool; throws the `invalid-credentials` DomainError on any refusal. */
  signIn(username: string, password: string): Promise<SignInResult>;
  exists(staffId: string): Promise<boolean>;
}
