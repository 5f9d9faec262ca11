/**
 * What the domain needs from the outside world, as interfaces. Unit tests pass fakes; the
 * handlers pass the DynamoDB/Cognito adapters in lambdas/adapters/.
 */
import type { Settings } from '../schemas/settings.ts';
import type { AuditEvent } from './audit.ts';
import type { StoredRecord } from './portal-record.ts';
import type { StaffRecord } from './staff-admin.ts';

export type Clock = () => Date;

/** `reads()` through a store's `together` where it has one (one round trip for what they start at once). */
export const readTogether = <T>(store: { together?<U>(reads: () => Promise<U>): Promise<U> } | undefined, reads: () => Promise<T>): Promise<T> =>
  store?.together ? store.together(reads) : reads();

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
  /**
   * Runs `reads`, and the single-item reads it starts at once (before awaiting anything) go to
   * the table as one call (issue 16: one read for what one request needs). Optional: without
   * it (unit-test fakes) `reads` simply runs.
   */
  together?<T>(reads: () => Promise<T>): Promise<T>;
  getRecord(patientId: string): Promise<StoredRecord | undefined>;
  saveRecord(record: StoredRecord, expectedVersion: number, audit: AuditEvent): Promise<void>;
  searchRecords(query: string | undefined, cursor: string | undefined, limit: number, filter?: { registeredSince?: string }): Promise<Page<StoredRecord>>;

  getSettings(): Promise<Versioned<Partial<Settings>> | undefined>;
  saveSettings(settings: Settings, expectedVersion: number, audit: AuditEvent): Promise<void>;

  /** The staff record `STAFF#<sub>` (lambdas/domain/staff-admin.ts); `record.version` is `expectedVersion + 1`. */
  getStaff(sub: string): Promise<StaffRecord | undefined>;
  saveStaff(record: StaffRecord, expectedVersion: number, audit: AuditEvent): Promise<void>;

  listAudit(target: string, cursor: string | undefined, limit: number): Promise<Page<AuditEvent>>;
  /** An audit event that goes with no state change (a sign-in, a refused attempt). */
  appendAudit(event: AuditEvent): Promise<void>;
}

export type SignInResult =
  | { kind: 'tokens'; accessToken: string; idToken: string; refreshToken: string; expiresIn: number }
  | { kind: 'challenge'; challenge: string; session: string; /** The pool's name for the user (USER_ID_FOR_SRP), when it says. */ username?: string };

/** The caller as Cognito's threat protection wants to see it (built from the request, never from the body). */
export interface CallerContext {
  sourceIp: string;
  /** Host the request was sent to, and its path. */
  serverName: string;
  serverPath: string;
  /** Only harmless headers (user-agent, accept-language …), never authorization or cookie. */
  headers: Record<string, string>;
}

/** One answer to a staff sign-in challenge, as the pool takes it. */
export type StaffChallengeStep =
  | { challenge: 'NEW_PASSWORD_REQUIRED'; session: string; newPassword: string }
  | { challenge: 'MFA_SETUP'; session: string }
  | { challenge: 'MFA_SETUP'; session: string; code: string }
  | { challenge: 'SOFTWARE_TOKEN_MFA'; session: string; code: string };

export type StaffChallengeResult = SignInResult | { kind: 'enrol'; secretCode: string; session: string };

export interface StaffDirectory {
  /** Password sign-in against the staff pool; throws the `invalid-credentials` DomainError on any refusal. */
  signIn(username: string, password: string, context?: CallerContext): Promise<SignInResult>;
  exists(staffId: string): Promise<boolean>;
}

/** The staff pool's sign-in challenges and the keys derived from the app client's secret. */
export interface StaffChallenges {
  /**
   * Answers a challenge for `username` (the pool's name bound to the session, never the body's).
   * A wrong code or a dead session throws the `invalid-credentials` DomainError.
   */
  respond(username: string, step: StaffChallengeStep, context?: CallerContext): Promise<StaffChallengeResult>;
  /**
   * A 32-byte key for `purpose`, derived from the staff app client's secret (which only the
   * staff sign-in functions can read): sealing challenge sessions, hashing typed usernames.
   */
  key(purpose: 'session-seal' | 'audit-username'): Promise<Buffer>;
}

/** A patient login in the patient pool, named by its permanent accountId. */
export interface PatientLogins {
  /** Creates the login with this password, or sets the password when it exists. Safe to repeat. */
  upsert(accountId: string, password: string): Promise<{ created: boolean }>;
  setPassword(accountId: string, password: string): Promise<void>;
  /** Password sign-in (server-side); throws the `invalid-credentials` DomainError on any refusal. */
  signIn(accountId: string, password: string, context?: CallerContext): Promise<SignInResult>;
  /** Ends every refresh token of the login where the pool supports it (cognito-local does not). */
  signOutEverywhere(accountId: string): Promise<void>;
  revokeRefreshToken(refreshToken: string): Promise<void>;
  /** Enables or disables the login in the pool (revoke, re-enable). Safe to repeat. */
  setEnabled(accountId: string, enabled: boolean): Promise<void>;
  remove(accountId: string): Promise<void>;
}

/** Which record a login name or an accountId belongs to. */
export interface AccountLink {
  accountId: string;
  patientId: string;
}

/**
 * Persistence of patient logins: usernames are unique (case-insensitive) through one item per
 * name, claimed in the same transaction as the record change that uses it.
 */
export interface AccountStore {
  findByUsername(username: string): Promise<AccountLink | undefined>;
  findByAccountId(accountId: string): Promise<AccountLink | undefined>;
  /**
   * Writes the record at `expectedVersion` with its audit event, links its accountId, claims
   * `claim` for it (throws `username-taken` when another account holds it), releases `release`,
   * and consumes the challenge `consumeChallenge` (throws `session-used` when already gone).
   * All or nothing.
   */
  saveLogin(
    record: StoredRecord,
    expectedVersion: number,
    audit: AuditEvent,
    options: { claim?: string; release?: string; consumeChallenge?: string },
  ): Promise<void>;
}

/**
 * One Register Patient at a time per record: a lease on the record item, taken before the login
 * is touched, so concurrent requests cannot each set a temporary password and hand staff one
 * that a later request overwrote.
 */
export interface RegisterLeaseStore {
  /** Takes the lease when the record is still at `expectedVersion` and holds no unexpired lease; false otherwise. */
  takeRegisterLease(patientId: string, expectedVersion: number, lease: { id: string; until: string }, now: Date): Promise<boolean>;
  /** Lets go of the lease if it is still this one's. */
  releaseRegisterLease(patientId: string, leaseId: string): Promise<void>;
}

/** A pending new-password challenge, kept by the hash of its session token. */
export interface Challenge {
  accountId: string;
  patientId: string;
  expiresAt: string;
  /**
   * The record's generation when the temporary password (or forced change) let the patient in:
   * the step works only while it is still exactly the record's (not re-registered, reset, revoked,
   * forced again or its email changed since; rule 17). Absent on a step from before: refused.
   */
  generation?: number;
}

export interface ChallengeStore {
  create(tokenHash: string, challenge: Challenge): Promise<void>;
  get(tokenHash: string): Promise<Challenge | undefined>;
}

/** Phone codes (issue 17): texting and the codes' keyed hash; defined beside their flow in phone-codes.ts. */
export type { PhoneCodeKey, SmsSender } from './phone-codes.ts';
