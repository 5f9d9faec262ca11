/**
 * In-memory fakes for the invitation domain, with the same all-or-nothing and conditional rules
 * as the DynamoDB adapters, and switches to make one backend call fail (security rule 24 tests):
 *   - memoryLinks: one-time links of one policy (lambdas/adapters/dynamo-links.ts), the invitations.
 */
import { randomBytes } from 'node:crypto';
import { fileKeyPinVault } from '../../lambdas/adapters/pin-vault.ts';
import { DomainError, versionConflict } from '../../lambdas/domain/errors.ts';
import type { Mailer, OutgoingEmail } from '../../lambdas/domain/invitations.ts';
import type { LinkPolicy, LinkPointer, LinkState, LinkStore } from '../../lambdas/domain/one-time-link.ts';
import type { AccountLink, PatientLogins } from '../../lambdas/domain/ports.ts';
import type { memoryStore } from './memory-store.ts';

type Mem = ReturnType<typeof memoryStore>;

/** An error as an SDK would throw it for a backend that is down. */
export const outage = (name = 'ServiceUnavailable') => Object.assign(new Error('backend down'), { name });

/**
 * One-time links of one policy in memory. `usernames` and `accounts` may be shared with another
 * fake (the email-match tests claim names in the same space).
 */
export function memoryLinks(
  mem: Mem,
  policy: Pick<LinkPolicy, 'maxFailures' | 'errors'>,
  shared: { usernames?: Map<string, AccountLink>; accounts?: Map<string, AccountLink> } = {},
) {
  const states = new Map<string, LinkState>();
  const pointers = new Map<string, LinkPointer>();
  const usernames = shared.usernames ?? new Map<string, AccountLink>();
  const accounts = shared.accounts ?? new Map<string, AccountLink>();
  /** Names of store methods that fail once, the next time they are called. */
  const failOnce = new Set<keyof LinkStore>();
  const max = policy.maxFailures;

  const recordKey = (id: string) => `patient:${id}`;
  const recordVersion = (id: string) => mem.docs.get(recordKey(id))?.version ?? 0;
  const maybeFail = (op: keyof LinkStore) => {
    if (failOnce.delete(op)) throw outage('InternalServerError');
  };
  const pending = (s: LinkState | undefined, linkId: string): s is LinkState => s?.linkId === linkId && s.status === 'Pending';

  const store: LinkStore = {
    async get(patientId) {
      const s = states.get(patientId);
      return s ? structuredClone(s) : undefined;
    },
    async find(tokenHash) {
      const p = pointers.get(tokenHash);
      return p ? { ...p } : undefined;
    },
    async write(change) {
      maybeFail('write');
      const { state, record } = change;
      if ((states.get(state.next.patientId)?.version ?? 0) !== state.expectedVersion) throw policy.errors.conflict();
      if (record && recordVersion(record.next.patientId) !== record.expectedVersion) throw versionConflict();
      if (record && record.next.version !== record.expectedVersion + 1) throw new Error('record version must bump by one');
      if (record) mem.docs.set(recordKey(record.next.patientId), { value: structuredClone(record.next), version: record.expectedVersion + 1 });
      mem.audit.push(change.audit);
      states.set(state.next.patientId, structuredClone(state.next));
      if (change.deletePointer) pointers.delete(change.deletePointer);
      if (change.putPointer) pointers.set(change.putPointer.tokenHash, { ...change.putPointer });
    },
    async reserveTry(patientId, linkId) {
      maybeFail('reserveTry');
      const s = states.get(patientId);
      if (pending(s, linkId) && s.tries < max) {
        s.tries += 1;
        return 'reserved';
      }
      return pending(s, linkId) && s.failures < max ? 'busy' : 'gone';
    },
    async releaseTry(patientId, linkId) {
      const s = states.get(patientId);
      if (s?.linkId === linkId && s.tries > 0) s.tries -= 1;
    },
    async countFailure(patientId, linkId, options) {
      maybeFail('countFailure');
      const s = states.get(patientId);
      if (!pending(s, linkId)) return undefined;
      if (options?.leaseId !== undefined && s.lease?.id === options.leaseId) delete s.lease;
      s.failures += 1;
      s.version += 1;
      return s.failures;
    },
    async takeLease(patientId, linkId, tokenHash, lease, accountId, now, options) {
      maybeFail('takeLease');
      const s = states.get(patientId);
      if (!pending(s, linkId) || s.tokenHash !== tokenHash || s.expiresAt <= now.toISOString() || s.failures >= max) return { kind: 'gone' };
      if (s.lease && s.lease.until >= now.toISOString()) return { kind: 'held' };
      // Reserving: every try in flight is "busy" like a held lease (the adapter's condition `tries < max`).
      if (options?.reserveTry && s.tries >= max) return { kind: 'held' };
      if (options?.reserveTry) s.tries += 1;
      s.lease = { ...lease };
      if (accountId) s.accountId ??= accountId;
      s.version += 1;
      return { kind: 'taken', state: structuredClone(s) };
    },
    async releaseLease(patientId, leaseId, options) {
      maybeFail('releaseLease');
      const s = states.get(patientId);
      if (s?.lease?.id === leaseId) {
        delete s.lease;
        if (options?.returnTry) s.tries -= 1;
        s.version += 1;
      }
    },
    async complete(change) {
      maybeFail('complete');
      const { next, expectedVersion } = change.record;
      const accountId = next.accountId!;
      const s = states.get(next.patientId);
      const ok =
        pending(s, change.state.linkId) &&
        s.tokenHash === change.tokenHash &&
        s.lease?.id === change.leaseId &&
        s.expiresAt > change.audit.at &&
        s.accountId === accountId;
      if (recordVersion(next.patientId) !== expectedVersion) throw versionConflict();
      if (!ok) throw policy.errors.gone();
      const claim = change.usernames?.claim.toLowerCase();
      const holder = claim ? usernames.get(claim) : undefined;
      if (holder && holder.accountId !== accountId) throw new DomainError('conflict', 'username-taken', 'taken');
      mem.docs.set(recordKey(next.patientId), { value: structuredClone(next), version: expectedVersion + 1 });
      mem.audit.push(change.audit);
      states.set(next.patientId, structuredClone(change.state));
      pointers.delete(change.tokenHash);
      if (change.linkAccount) accounts.set(accountId, { accountId, patientId: next.patientId });
      if (claim) usernames.set(claim, { accountId, patientId: next.patientId });
      if (change.usernames?.release) usernames.delete(change.usernames.release.toLowerCase());
    },
  };

  return {
    store,
    states,
    pointers,
    usernames,
    accounts: {
      async findByUsername(username: string) {
        return usernames.get(username.trim().toLowerCase());
      },
    },
    failOnce,
  };
}

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
