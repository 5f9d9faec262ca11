/**
 * The staff side of a patient's login on fakes that keep DynamoDB's and Cognito's rules (issue
 * 14 item 5): a pool of logins, the register lease on the record item, usernames claimed with the
 * record write. Shared by the patient-access tests.
 */
import { DomainError, versionConflict } from '../../../lambdas/domain/errors.ts';
import type { AccountLink, AccountStore, PatientLogins, RegisterLeaseStore } from '../../../lambdas/domain/ports.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { accountThrottleKey, throttlePolicy } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';
import { harness } from './invitation-harness.ts';

export function setup() {
  const h = harness();
  const throttle = memoryThrottleState();
  const users = new Map<string, { password: string; enabled: boolean; signOuts: number }>();
  const logins: PatientLogins = {
    async upsert(accountId, password) {
      const created = !users.has(accountId);
      users.set(accountId, { password, enabled: true, signOuts: users.get(accountId)?.signOuts ?? 0 });
      return { created };
    },
    async setPassword(accountId, password) {
      users.get(accountId)!.password = password;
    },
    async signIn() {
      throw new Error('not used here');
    },
    async signOutEverywhere(accountId) {
      const u = users.get(accountId);
      if (u) u.signOuts++;
    },
    async revokeRefreshToken() {},
    async setEnabled(accountId, enabled) {
      const u = users.get(accountId);
      if (u) u.enabled = enabled;
    },
    async remove(accountId) {
      users.delete(accountId);
    },
  };
  // The lease lives on the record item without moving its version, as in DynamoDB.
  const leases: RegisterLeaseStore = {
    async takeRegisterLease(patientId, expected, lease, now) {
      const doc = h.mem.docs.get(`patient:${patientId}`);
      const rec = doc?.value as StoredRecord | undefined;
      if (!doc || doc.version !== expected || (rec?.registerLease && Date.parse(rec.registerLease.until) > now.getTime())) return false;
      doc.value = { ...rec, registerLease: lease };
      return true;
    },
    async releaseRegisterLease(patientId, leaseId) {
      const doc = h.mem.docs.get(`patient:${patientId}`);
      const rec = doc?.value as StoredRecord | undefined;
      if (doc && rec?.registerLease?.id === leaseId) {
        const { registerLease: _gone, ...rest } = rec;
        doc.value = rest;
      }
    },
  };
  // Usernames claimed with the record write, all or nothing, as the DynamoDB transaction does.
  const names = new Map<string, AccountLink>();
  const accounts: AccountStore = {
    async findByUsername(username) {
      return names.get(username.toLowerCase());
    },
    async findByAccountId(accountId) {
      return [...names.values()].find((l) => l.accountId === accountId);
    },
    async saveLogin(record, expected, audit, options) {
      const doc = h.mem.docs.get(`patient:${record.patientId}`);
      if ((doc?.version ?? 0) !== expected) throw versionConflict();
      const claim = options.claim?.toLowerCase();
      if (claim && names.has(claim) && names.get(claim)!.accountId !== record.accountId) throw new DomainError('conflict', 'username-taken', 'taken');
      if (options.release) names.delete(options.release.toLowerCase());
      if (claim) names.set(claim, { accountId: record.accountId!, patientId: record.patientId });
      h.mem.docs.set(`patient:${record.patientId}`, { value: structuredClone(record), version: expected + 1 });
      h.mem.audit.push(audit);
    },
  };
  const deps = { store: h.mem.store, accounts, logins, throttle: throttle.store, clock: () => new Date('2026-11-21T10:00:00.000Z'), leases };
  const lockOut = (username: string) => throttle.accounts.set(accountThrottleKey('patient', username), { failures: throttlePolicy.lockAfterFailures, lastFailureAt: Date.parse('2026-11-21T09:14:00.000Z') });
  const isLocked = (username: string) => throttle.accounts.has(accountThrottleKey('patient', username));
  return { h, deps, users, throttle, lockOut, isLocked, names };
}

/** What a promise rejected with (undefined when it resolved). */
export const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

/** A record written straight into the store, as a staff edit left it (defaults: access on, no login). */
export const put = (h: ReturnType<typeof harness>, patientId: string, over: Partial<StoredRecord> = {}) => {
  const record: StoredRecord = {
    patientId,
    accessEnabled: true,
    cases: [],
    registration: 'NotRegistered',
    invite: { status: 'None' },
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    version: 2,
    ...over,
  };
  h.mem.docs.set(`patient:${patientId}`, { value: record, version: record.version });
  return record;
};
