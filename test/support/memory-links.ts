/**
 * An in-memory LinkStore (lambdas/domain/one-time-link.ts) over memoryStore's records and audit
 * trail, with the conditions of the DynamoDB adapter (dynamo-links.ts), for domain tests of the
 * flows that sit on one-time links. `failOnce` breaks the next call of a method (an outage).
 */
import type { AccountLink } from '../../lambdas/domain/ports.ts';
import { DomainError, versionConflict } from '../../lambdas/domain/errors.ts';
import type { LinkPointer, LinkPolicy, LinkState, LinkStore } from '../../lambdas/domain/one-time-link.ts';
import { outage } from './memory-invitations.ts';
import type { ThrottleStore } from '../../lambdas/domain/sign-in-throttle.ts';
import type { memoryStore } from './memory-store.ts';

export function memoryLinks<D extends object>(
  mem: ReturnType<typeof memoryStore>,
  usernames: Map<string, AccountLink>,
  policy: Pick<LinkPolicy<D>, 'maxFailures' | 'errors'>,
  /** Where `complete`'s `clearThrottle` keys are cleared (the DynamoDB adapter deletes them in its transaction). */
  throttle?: Pick<ThrottleStore, 'clearAccount'>,
) {
  const states = new Map<string, LinkState<D>>();
  const pointers = new Map<string, LinkPointer>();
  const accounts = new Map<string, string>();
  const failOnce = new Set<keyof LinkStore<D>>();
  const maybeFail = (op: keyof LinkStore<D>) => {
    if (failOnce.delete(op)) throw outage('InternalServerError');
  };
  const max = policy.maxFailures;
  const pendingOf = (patientId: string, linkId: string) => {
    const s = states.get(patientId);
    return s?.linkId === linkId && s.status === 'Pending' ? s : undefined;
  };
  const recordVersion = (patientId: string) => mem.docs.get(`patient:${patientId}`)?.version ?? 0;

  const store: LinkStore<D> = {
    async get(patientId) {
      maybeFail('get');
      const s = states.get(patientId);
      return s ? structuredClone(s) : undefined;
    },
    async find(tokenHash) {
      const p = pointers.get(tokenHash);
      return p ? { ...p } : undefined;
    },
    async write(change) {
      maybeFail('write');
      const { next, expectedVersion } = change.state;
      if ((states.get(next.patientId)?.version ?? 0) !== expectedVersion) throw policy.errors.conflict();
      if (change.record && recordVersion(next.patientId) !== change.record.expectedVersion) throw versionConflict();
      states.set(next.patientId, structuredClone(next));
      if (change.record) mem.docs.set(`patient:${next.patientId}`, { value: structuredClone(change.record.next), version: change.record.expectedVersion + 1 });
      if (change.deletePointer) pointers.delete(change.deletePointer);
      if (change.putPointer) pointers.set(change.putPointer.tokenHash, { ...change.putPointer });
      mem.audit.push(change.audit);
    },
    async reserveTry(patientId, linkId) {
      maybeFail('reserveTry');
      const s = pendingOf(patientId, linkId);
      if (s && s.tries < max) {
        s.tries += 1;
        return 'reserved';
      }
      return s && s.failures < max ? 'busy' : 'gone';
    },
    async releaseTry(patientId, linkId) {
      const s = states.get(patientId);
      if (s?.linkId === linkId && s.tries > 0) s.tries -= 1;
    },
    async countFailure(patientId, linkId, options) {
      maybeFail('countFailure');
      const s = pendingOf(patientId, linkId);
      if (!s) return undefined;
      if (options?.leaseId !== undefined && s.lease?.id === options.leaseId) delete s.lease;
      s.failures += 1;
      s.version += 1;
      return s.failures;
    },
    async takeLease(patientId, linkId, tokenHash, lease, accountId, now, options) {
      maybeFail('takeLease');
      const at = now.toISOString();
      const s = pendingOf(patientId, linkId);
      if (!s || s.tokenHash !== tokenHash || s.expiresAt <= at || s.failures >= max) return { kind: 'gone' };
      if (s.lease && s.lease.until >= at) return { kind: 'held' };
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
      const { next } = change.record;
      const { patientId } = next;
      const accountId = next.accountId!;
      const s = states.get(patientId);
      const stateOk =
        s?.linkId === change.state.linkId &&
        s.status === 'Pending' &&
        s.tokenHash === change.tokenHash &&
        s.lease?.id === change.leaseId &&
        s.expiresAt > change.audit.at &&
        s.accountId === accountId;
      const accountOk = !change.linkAccount || (accounts.get(accountId) ?? patientId) === patientId;
      if (!stateOk || !accountOk) throw policy.errors.gone();
      const holder = change.usernames && usernames.get(change.usernames.claim.toLowerCase());
      if (holder && holder.accountId !== accountId) throw new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');
      if (recordVersion(patientId) !== change.record.expectedVersion) throw versionConflict();
      mem.docs.set(`patient:${patientId}`, { value: structuredClone(next), version: change.record.expectedVersion + 1 });
      states.set(patientId, structuredClone(change.state));
      pointers.delete(change.tokenHash);
      if (change.linkAccount) accounts.set(accountId, patientId);
      if (change.usernames) {
        const { claim, release } = change.usernames;
        // DynamoDB refuses a transaction with two operations on one item (ValidationException), and
        // the adapter (dynamo-links.ts) writes the claim and the release as two: keeping a name must
        // not also release it, whatever its case.
        if (release && release.toLowerCase() === claim.toLowerCase()) throw Object.assign(new Error('Transaction request cannot include multiple operations on one item'), { name: 'ValidationException' });
        if (release) usernames.delete(release.toLowerCase());
        usernames.set(claim.toLowerCase(), { accountId, patientId });
      }
      mem.audit.push(change.audit);
      for (const key of change.clearThrottle ?? []) await throttle?.clearAccount(key);
    },
  };
  return { store, states, pointers, failOnce, accounts };
}
