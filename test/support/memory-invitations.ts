/**
 * In-memory fakes for the invitation domain, with the same all-or-nothing and conditional rules
 * as the DynamoDB adapter (lambdas/adapters/dynamo-invitations.ts), and switches to make one
 * backend call fail (security rule 24 tests).
 */
import { randomBytes } from 'node:crypto';
import { fileKeyPinVault } from '../../lambdas/adapters/pin-vault.ts';
import type { AuditEvent } from '../../lambdas/domain/audit.ts';
import { DomainError, versionConflict } from '../../lambdas/domain/errors.ts';
import {
  invitationConflict,
  MAX_PIN_FAILURES,
  type InvitationLink,
  type InvitationStore,
  type Mailer,
  type OutgoingEmail,
  type StoredInvitation,
} from '../../lambdas/domain/invitations.ts';
import type { StoredRecord } from '../../lambdas/domain/portal-record.ts';
import type { AccountLink, PatientLogins } from '../../lambdas/domain/ports.ts';
import { linkGone } from '../../lambdas/domain/registration.ts';
import type { memoryStore } from './memory-store.ts';

type Mem = ReturnType<typeof memoryStore>;

/** An error as an SDK would throw it for a backend that is down. */
export const outage = (name = 'ServiceUnavailable') => Object.assign(new Error('backend down'), { name });

export function memoryInvitations(mem: Mem) {
  const invitations = new Map<string, StoredInvitation>();
  const links = new Map<string, InvitationLink>();
  const usernames = new Map<string, AccountLink>();
  const accounts = new Map<string, AccountLink>();
  /** Names of store methods that fail once, the next time they are called. */
  const failOnce = new Set<keyof InvitationStore>();

  const recordKey = (id: string) => `patient:${id}`;
  const recordVersion = (id: string) => mem.docs.get(recordKey(id))?.version ?? 0;
  const putRecord = (record: StoredRecord, expected: number, audit: AuditEvent) => {
    mem.docs.set(recordKey(record.patientId), { value: structuredClone(record), version: expected + 1 });
    mem.audit.push(audit);
  };
  const maybeFail = (op: keyof InvitationStore) => {
    if (failOnce.delete(op)) throw outage('InternalServerError');
  };

  const store: InvitationStore = {
    async getInvitation(patientId) {
      const i = invitations.get(patientId);
      return i ? structuredClone(i) : undefined;
    },
    async findLink(tokenHash) {
      const l = links.get(tokenHash);
      return l ? { ...l } : undefined;
    },
    async commit(change) {
      maybeFail('commit');
      const { record, invitation } = change;
      const current = invitations.get(invitation.next.patientId);
      if ((current?.version ?? 0) !== invitation.expectedVersion) throw invitationConflict();
      if (recordVersion(record.next.patientId) !== record.expectedVersion) throw versionConflict();
      if (record.next.version !== record.expectedVersion + 1) throw new Error('record version must bump by one');
      putRecord(record.next, record.expectedVersion, change.audit);
      invitations.set(invitation.next.patientId, structuredClone(invitation.next));
      if (change.deleteLink) links.delete(change.deleteLink);
      if (change.putLink) links.set(change.putLink.tokenHash, { ...change.putLink });
    },
    async countPinFailure(patientId, invitationId) {
      maybeFail('countPinFailure');
      const i = invitations.get(patientId);
      if (!i || i.invitationId !== invitationId || i.status !== 'Pending') return undefined;
      i.pinFailures += 1;
      i.version += 1;
      return i.pinFailures;
    },
    async reservePinTry(patientId, invitationId) {
      maybeFail('reservePinTry');
      const i = invitations.get(patientId);
      if (i?.invitationId === invitationId && i.status === 'Pending' && (i.pinTries ?? 0) < MAX_PIN_FAILURES) {
        i.pinTries = (i.pinTries ?? 0) + 1;
        return 'reserved';
      }
      return i?.invitationId === invitationId && i.status === 'Pending' && i.pinFailures < MAX_PIN_FAILURES ? 'busy' : 'gone';
    },
    async releasePinTry(patientId, invitationId) {
      const i = invitations.get(patientId);
      if (i?.invitationId === invitationId && (i.pinTries ?? 0) > 0) i.pinTries! -= 1;
    },
    async takeLease(patientId, invitationId, tokenHash, lease, accountId, now) {
      maybeFail('takeLease');
      const i = invitations.get(patientId);
      const pending =
        i?.invitationId === invitationId &&
        i.status === 'Pending' &&
        i.tokenHash === tokenHash &&
        i.expiresAt > now.toISOString() &&
        i.pinFailures < MAX_PIN_FAILURES;
      if (!pending) return { kind: 'gone' };
      if (i.lease && i.lease.until >= now.toISOString()) return { kind: 'held' };
      i.lease = { ...lease };
      i.accountId ??= accountId;
      i.version += 1;
      return { kind: 'taken', invitation: structuredClone(i) };
    },
    async releaseLease(patientId, leaseId) {
      maybeFail('releaseLease');
      const i = invitations.get(patientId);
      if (i?.lease?.id === leaseId) {
        delete i.lease;
        i.version += 1;
      }
    },
    async completeRegistration(change) {
      maybeFail('completeRegistration');
      const { next, expectedVersion } = change.record;
      const accountId = next.accountId!;
      const i = invitations.get(next.patientId);
      const ok =
        i?.invitationId === change.invitation.invitationId &&
        i.status === 'Pending' &&
        i.tokenHash === change.tokenHash &&
        i.lease?.id === change.leaseId &&
        i.expiresAt > change.audit.at &&
        i.accountId === accountId;
      if (recordVersion(next.patientId) !== expectedVersion) throw versionConflict();
      if (!ok) throw linkGone();
      const holder = usernames.get(change.username.toLowerCase());
      if (holder && holder.accountId !== accountId) throw new DomainError('conflict', 'username-taken', 'taken');
      putRecord(next, expectedVersion, change.audit);
      invitations.set(next.patientId, structuredClone(change.invitation));
      links.delete(change.tokenHash);
      accounts.set(accountId, { accountId, patientId: next.patientId });
      usernames.set(change.username.toLowerCase(), { accountId, patientId: next.patientId });
    },
  };

  return {
    store,
    invitations,
    links,
    usernames,
    accounts: {
      async findByUsername(username: string) {
        return usernames.get(username.trim().toLowerCase());
      },
    },
    failOnce,
  };
}

/** The patient pool: logins by accountId, with their passwords; `failOnce` breaks the next call of a method. */
export function memoryLogins() {
  const users = new Map<string, string>();
  const failOnce = new Set<'upsert' | 'remove'>();
  const logins: Pick<PatientLogins, 'upsert' | 'remove'> = {
    async upsert(accountId, password) {
      if (failOnce.delete('upsert')) throw outage('InternalErrorException');
      const created = !users.has(accountId);
      users.set(accountId, password);
      return { created };
    },
    async remove(accountId) {
      if (failOnce.delete('remove')) throw outage('InternalErrorException');
      users.delete(accountId);
    },
  };
  return { logins, users, failOnce };
}

export function memoryMailer() {
  const sent: OutgoingEmail[] = [];
  let failing = false;
  const mailer: Mailer = {
    async send(email) {
      if (failing) throw Object.assign(new Error('Email address is not verified'), { name: 'MessageRejected' });
      sent.push(email);
    },
  };
  return {
    mailer,
    sent,
    fail(on: boolean) {
      failing = on;
    },
  };
}

export { memoryThrottle } from './memory-throttle.ts';

/** The local-stack vault with a throwaway key. */
export const testVault = () => fileKeyPinVault(randomBytes(32));
