/**
 * The life of a one-time link, once for every flow that emails one (issue 14 item 1): invitation
 * today, reset and email-match next, proxy invitation and self-registration later.
 *
 *   issue ──► look up ──► check secrets ──► lease ──► outside step ──► commit ──► Used
 *                │          (a try is          (one at a    (Cognito,      (record, link, pointer,
 *                │           reserved before    time; fixes  safe to        usernames, audit: one
 *                ▼           the compare)       accountId)   repeat)        transaction)
 *              dead: used, expired, cancelled, locked (too many wrong secrets), replaced (a newer
 *              link of the same patient), record changed (`linksStillLive` false: email change
 *              or access off since issue), or unknown. All of them are the flow's one 410.
 *
 * Per patient and flow there is one LINK STATE (the current link: token hash, stored secrets,
 * counters, lease, accountId, the flow's own `data`) and, while it works, one POINTER found by
 * the token's SHA-256 (the token itself is never stored). The pointer names the state's
 * `linkId`, so a replaced link's token finds a state that is no longer its own.
 *
 * HOW A FLOW PLUGS IN: it writes a `LinkPolicy` (below) and gets a `LinkStore` for it
 * (lambdas/adapters/dynamo-links.ts, `dynamoLinks(policy)`: each `kind` has its own key space).
 *   - `kind`, `maxFailures`, `leaseSeconds`, `lifetimeMs(settings)`;
 *   - `secrets`: the list of secrets typed with the link (`pin` now; a phone code in issue 17 is
 *     one more entry). Each says how its typed value is matched, in constant time, against the
 *     stored form kept in `state.secrets[name]` (sealed or hashed), or against the record;
 *   - `recordAllows(record, state)`: what the record must still be for this flow (access on, no
 *     login yet, …); `linksStillLive` is always checked as well;
 *   - `errors` (the one 410, "in progress", the wrong-secret 401, a concurrent change) and
 *     `audit` names (wrong secret, locked);
 *   - `throttle`: the per-address budget for dead links (rule 6), and optionally a guard around
 *     the secret comparison (invitations: the sign-in throttle per link and address);
 *   - `onLock(record)`: what locking does to the record, if anything.
 * What commit does is the flow's `CommitSteps` (passed to `leaseAndCommit`): the outside step,
 * the record as it becomes and the usernames to claim or release.
 *
 * The steps, each safe to repeat:
 *   `newLink`       a fresh state + pointer (+ the old pointer to delete); the flow writes it with
 *                   `store.write`, together with its record change and audit entry;
 *   `lookUp`        the live link behind a token, or the flow's 410 (each dead link counted
 *                   against the source address, past the budget 429);
 *   `checkSecrets`  reserves a try BEFORE comparing (rule 5: a burst gets at most maxFailures
 *                   comparisons), compares every secret (which one was wrong is never said), counts
 *                   a wrong set (its try kept), locks at maxFailures; a right set returns the
 *                   reserved try for the flow to give back (`release`) when it sees fit;
 *   `leaseAndCommit` one request at a time per link, the accountId fixed before the outside step,
 *                   then one transaction; after a definite refusal the outside step is undone and
 *                   the lease let go; after an unknown outcome `commitHappened` asks the state
 *                   ("did my commit happen?") and answers success if it did;
 *   `deathOf`       why a link is dead (for tests and logs; flows answer the one 410 whatever it is).
 * Plain functions and types: no SDK here.
 */
import { randomUUID } from 'node:crypto';
import type { Settings } from '../schemas/settings.ts';
import type { AuditEvent } from './audit.ts';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError, retryOnConflict, versionConflict } from './errors.ts';
import { linkGenerationOf, linksStillLive, type StoredRecord } from './portal-record.ts';
import { readTogether, type Clock, type RecordStore } from './ports.ts';
import { opaqueToken, sha256 } from './secrets.ts';
import type { ThrottleStore } from './sign-in-throttle.ts';

// ------------------------------------------------------------------------------ state

/** Pending until used; Cancelled by staff; Locked by too many wrong secrets (or killed otherwise). */
export type LinkStatus = 'Pending' | 'Used' | 'Cancelled' | 'Locked';

export interface Lease {
  id: string;
  until: string;
}

/** The current link of one patient in one flow. Never shown to anyone as it is. */
export interface LinkState<D extends object = object> {
  patientId: string;
  /** New for every issued link (a resend that keeps the secrets may keep it). */
  linkId: string;
  status: LinkStatus;
  /** SHA-256 of the live token; absent once no link works. */
  tokenHash?: string;
  /** Stored forms of the secrets by name (sealed or hashed, never in clear); dropped once the link is done. */
  secrets?: Record<string, string>;
  /** Wrong secret sets counted. */
  failures: number;
  /** Tries reserved: wrong ones plus those being compared (rule 5). */
  tries: number;
  expiresAt: string;
  /** The login the commit acts on: fixed at the first lease (a retry makes the same one), or at issue (reset). */
  accountId?: string;
  /** A commit in progress holds this; a crashed one lets go when `until` passes. */
  lease?: Lease;
  /** The record's link generation at issue (rule 29). */
  linkGeneration?: number;
  /** The flow's own fields (email-match: the address's hash; reset: when emails went out). */
  data?: D;
  version: number;
}

/** A live link, found by its token's hash. */
export interface LinkPointer {
  tokenHash: string;
  patientId: string;
  linkId: string;
  expiresAt: string;
}

// ------------------------------------------------------------------------------ policy

/** One secret typed with the link. */
export interface LinkSecret {
  /** The typed field ('pin'; 'phoneCode' in issue 17). */
  name: string;
  /**
   * Whether `typed` is right, in constant time. `stored` is `state.secrets[name]` (undefined for
   * a secret checked against the record, such as a reset's current username).
   */
  matches(typed: string, stored: string | undefined, state: LinkState<any>, record: StoredRecord): Promise<boolean>;
}

export interface LinkPolicy<D extends object = object> {
  /** The flow, and the adapter's key space: 'invitation', 'email-match', 'reset', … */
  kind: string;
  lifetimeMs(settings: Settings): number;
  secrets: readonly LinkSecret[];
  /** The wrong secret set that locks the link (rule 7). */
  maxFailures: number;
  /** Longer than a function may run (10 s): a lease outlives only a crashed attempt, briefly. */
  leaseSeconds: number;
  /** The record as it is now still lets this link act. `linksStillLive` is checked besides. */
  recordAllows(record: StoredRecord, state: LinkState<D>): boolean;
  errors: {
    /** The one answer for any dead link (rule 11). */
    gone(): DomainError;
    /** Another request holds the lease, or all tries are in flight. */
    busy(): DomainError;
    /** A wrong secret set; `locked` once it was the last. */
    wrongSecret(locked: boolean): DomainError;
    /** The state moved between read and write (two issuers at once). */
    conflict(): DomainError;
  };
  audit: { wrongSecret: string; locked: string };
  throttle: {
    /** Throttle keys for a target (`link:<hash>`, `pin:<hash>`) and a source address. */
    keys(target: string, sourceIp: string, now: Date): { accountKey: string; addressKey: string };
    /** Throws the 429 when the address is past its budget of dead links. */
    requireUnder(addressFailures: number, now: Date): void;
    /** Runs the comparison, e.g. inside the sign-in throttle; it throws `refusal()` for a wrong set. */
    guardCompare?(deps: LinkDeps, keys: { accountKey: string; addressKey: string }, compare: () => Promise<void>): Promise<void>;
  };
  /** The record change that goes with locking, if any (invitations: the invite reads Locked). */
  onLock?(record: StoredRecord): StoredRecord | undefined;
}

/** What a wrong secret set throws inside `guardCompare`; turned into `errors.wrongSecret` right after. */
export const refusal = () => new DomainError('unauthorized', 'invalid-credentials', 'refused');
const isRefusal = (err: unknown) => err instanceof DomainError && err.code === 'invalid-credentials';

// ------------------------------------------------------------------------------ store port

export interface LinkWrite<D extends object = object> {
  state: { next: LinkState<D>; expectedVersion: number };
  /** The record change that goes with it (conditional on its version), if any. */
  record?: { next: StoredRecord; expectedVersion: number };
  putPointer?: LinkPointer;
  deletePointer?: string;
  audit: AuditEvent;
}

export interface LinkCompletion<D extends object = object> {
  /** The record as it becomes; its accountId is the login the link acted on. */
  record: { next: StoredRecord; expectedVersion: number };
  /** The state as it becomes (Used); written only while it is still the leased, pending, unexpired link. */
  state: LinkState<D>;
  leaseId: string;
  tokenHash: string;
  /** Link the accountId to the patient (a new login). */
  linkAccount?: boolean;
  /** Usernames: claim one for the accountId (throws `username-taken`), release one. */
  usernames?: { claim: string; release?: string };
  /** Sign-in failure counters (ThrottleStore account keys) deleted in the same transaction (a reset clears the lock, rule 5). */
  clearThrottle?: string[];
  audit: AuditEvent;
}

export type Reservation = 'reserved' | 'busy' | 'gone';
export type LeaseResult<D extends object = object> = { kind: 'taken'; state: LinkState<D> } | { kind: 'held' } | { kind: 'gone' };

/** The links of ONE policy (one key space). */
export interface LinkStore<D extends object = object> {
  get(patientId: string): Promise<LinkState<D> | undefined>;
  find(tokenHash: string): Promise<LinkPointer | undefined>;
  /** All or nothing. Throws `policy.errors.conflict()` when the state moved, `version-conflict` when the record did. */
  write(change: LinkWrite<D>): Promise<void>;
  /** Reserves one try of that pending link (at most maxFailures reserved): `busy` when all are in flight. */
  reserveTry(patientId: string, linkId: string): Promise<Reservation>;
  /** Gives back a try whose set was right (or never compared). */
  releaseTry(patientId: string, linkId: string): Promise<void>;
  /**
   * Counts a wrong set (its try stays reserved); the new count, or undefined when it is no longer
   * that pending link. With `leaseId`: in the same write, lets go of that lease if it is still ours.
   */
  countFailure(patientId: string, linkId: string, options?: { leaseId?: string }): Promise<number | undefined>;
  /**
   * Takes the lease of that pending link behind `tokenHash`, fixing `accountId` unless one is fixed
   * already. With `reserveTry`, the same write also reserves a try (at most maxFailures reserved;
   * `held` when all are in flight), so a compare under the lease needs no write of its own (issue 16).
   */
  takeLease(
    patientId: string,
    linkId: string,
    tokenHash: string,
    lease: Lease,
    accountId: string | undefined,
    now: Date,
    options?: { reserveTry?: boolean },
  ): Promise<LeaseResult<D>>;
  /** Lets go of a lease this request holds (with `returnTry`, its try too, in the same write); nothing when it is not ours. */
  releaseLease(patientId: string, leaseId: string, options?: { returnTry?: boolean }): Promise<void>;
  /** The last step, all or nothing. Throws `version-conflict`, `policy.errors.gone()` (lease lost, link dead), `username-taken`. */
  complete(change: LinkCompletion<D>): Promise<void>;
}

export interface LinkDeps<D extends object = object> {
  store: RecordStore;
  links: LinkStore<D>;
  throttle: ThrottleStore;
  clock: Clock;
}

// ------------------------------------------------------------------------------ issue

export interface Issued<D extends object> {
  /** The token for the email, never stored. */
  token: string;
  /** Spread into `store.write`: the new state, its pointer and the old pointer to delete. */
  write: Pick<LinkWrite<D>, 'state' | 'putPointer' | 'deletePointer'>;
}

/**
 * A fresh link replacing `current` (whatever it was): new token, new linkId unless `linkId` is
 * given (a resend keeping its sealed PIN, whose seal names the linkId), counters at 0, no lease,
 * the record's link generation now. `accountId` only when given (pass `current?.accountId` to
 * let the next commit complete the login an unfinished one made).
 */
export function newLink<D extends object>(
  policy: LinkPolicy<D>,
  args: {
    record: StoredRecord;
    current: LinkState<D> | undefined;
    now: Date;
    settings: Settings;
    secrets?: Record<string, string>;
    data?: D;
    linkId?: string;
    accountId?: string;
  },
): Issued<D> & { state: LinkState<D> } {
  const { record, current, now } = args;
  const token = opaqueToken();
  const tokenHash = sha256(token);
  const linkId = args.linkId ?? randomUUID();
  const expiresAt = new Date(now.getTime() + policy.lifetimeMs(args.settings)).toISOString();
  // Only when asked: a flow whose unfinished commit must complete the same login passes `current.accountId`.
  const accountId = args.accountId;
  const state: LinkState<D> = {
    patientId: record.patientId,
    linkId,
    status: 'Pending',
    tokenHash,
    ...(args.secrets ? { secrets: args.secrets } : {}),
    failures: 0,
    tries: 0,
    expiresAt,
    ...(accountId ? { accountId } : {}),
    linkGeneration: linkGenerationOf(record),
    ...(args.data ? { data: args.data } : {}),
    version: (current?.version ?? 0) + 1,
  };
  return {
    token,
    state,
    write: {
      state: { next: state, expectedVersion: current?.version ?? 0 },
      putPointer: { tokenHash, patientId: record.patientId, linkId, expiresAt },
      ...(current?.tokenHash ? { deletePointer: current.tokenHash } : {}),
    },
  };
}

/**
 * The state with its link dead: status set, token and lease dropped, version bumped. The stored
 * secrets go too, except on Locked: a locked link can be revived by a resend with the same
 * secret (invitations); no secret is compared while the state is not Pending.
 */
export function ended<D extends object>(state: LinkState<D>, status: Exclude<LinkStatus, 'Pending'>): LinkState<D> {
  const { tokenHash: _hash, secrets, lease: _lease, ...kept } = state;
  return { ...kept, ...(status === 'Locked' && secrets ? { secrets } : {}), status, version: state.version + 1 };
}

// ------------------------------------------------------------------------------ death

export type Death = 'unknown' | 'replaced' | 'used' | 'cancelled' | 'locked' | 'expired' | 'record-changed';

/** The state is pending, unlocked and unexpired, whatever the record says. */
export function isPending<D extends object>(policy: Pick<LinkPolicy<D>, 'maxFailures'>, state: LinkState<D> | undefined, now: Date): state is LinkState<D> {
  return state?.status === 'Pending' && state.failures < policy.maxFailures && Date.parse(state.expiresAt) > now.getTime();
}

/**
 * Why the link behind `tokenHash` is dead, or undefined while it works. Without a token hash
 * (staff asking about "the current link") only the state and the record are looked at.
 */
export function deathOf<D extends object>(
  policy: Pick<LinkPolicy<D>, 'maxFailures' | 'recordAllows'>,
  found: { tokenHash?: string; pointer?: LinkPointer; state: LinkState<D> | undefined; record: StoredRecord | undefined },
  now: Date,
): Death | undefined {
  const { tokenHash, pointer, state, record } = found;
  if (!state || !record || (tokenHash !== undefined && !pointer)) return 'unknown';
  if (tokenHash !== undefined && pointer!.linkId !== state.linkId) return 'replaced';
  if (state.status === 'Used') return 'used';
  if (state.status === 'Cancelled') return 'cancelled';
  if (state.status === 'Locked' || state.failures >= policy.maxFailures) return 'locked';
  // A resend keeps the linkId with a new token: the old token is replaced too.
  if (tokenHash !== undefined && state.tokenHash !== tokenHash) return 'replaced';
  if (Date.parse(state.expiresAt) <= now.getTime()) return 'expired';
  if (!linksStillLive(state.linkGeneration, record) || !policy.recordAllows(record, state)) return 'record-changed';
  return undefined;
}

// ------------------------------------------------------------------------------ look up

export interface LiveLink<D extends object = object> {
  tokenHash: string;
  state: LinkState<D>;
  record: StoredRecord;
  /** The guard's counters (policy.throttle.guardCompare), read with the link by `lookUp` with `reads` (issue 16). */
  guardRead?: { keys: { accountKey: string; addressKey: string }; counters: Awaited<ReturnType<ThrottleStore['read']>> };
}

/**
 * What a flow reads besides the link, in the same two calls (issue 16: one read for what one
 * request needs): `first` with the counters and the pointer (keys the request names, e.g. a
 * username), `withState` with the state and the record (keys the patientId names, e.g. settings).
 */
export interface LookUpReads<A, B> {
  first?: () => Promise<A>;
  withState?: (patientId: string) => Promise<B>;
}

/** `lookUp` with `reads`: the link, and what the flow read beside it. */
export type LiveLinkWith<D extends object, A, B> = LiveLink<D> & { first: A; withState: B };

/**
 * The live link behind a token, or the flow's 410. Guessing tokens is limited per source
 * address (rule 6): every dead link counts, and past the budget the answer is 429. No per-token
 * limit on the link itself (a 256-bit token is not guessed by retrying it, and a used link must
 * keep answering its 410); the per-token limit is on the secrets.
 */
export async function lookUp<D extends object>(
  deps: LinkDeps<D>,
  policy: Pick<LinkPolicy<D>, 'maxFailures' | 'recordAllows' | 'errors' | 'throttle'>,
  token: string,
  sourceIp: string,
): Promise<LiveLink<D>>;
/**
 * With `reads`: two calls, whatever the flow adds (issue 16). The first carries the address's
 * counter, the pointer, the guard's counters and `reads.first`; the second the state, the record
 * and `reads.withState`. The decisions keep their order: past the address budget it is 429
 * before the pointer is looked at, whatever was read beside it.
 */
export async function lookUp<D extends object, A = undefined, B = undefined>(
  deps: LinkDeps<D>,
  policy: Pick<LinkPolicy<D>, 'maxFailures' | 'recordAllows' | 'errors' | 'throttle'>,
  token: string,
  sourceIp: string,
  reads: LookUpReads<A, B>,
): Promise<LiveLinkWith<D, A, B>>;
export async function lookUp<D extends object, A, B>(
  deps: LinkDeps<D>,
  policy: Pick<LinkPolicy<D>, 'maxFailures' | 'recordAllows' | 'errors' | 'throttle'>,
  token: string,
  sourceIp: string,
  reads?: LookUpReads<A, B>,
): Promise<LiveLink<D> | LiveLinkWith<D, A, B>> {
  if (reads) return lookUpTogether(deps, policy, token, sourceIp, reads);
  const now = deps.clock();
  const tokenHash = sha256(token);
  const keys = policy.throttle.keys(`link:${tokenHash}`, sourceIp, now);
  const { addressFailures } = await deps.throttle.read(keys.accountKey, keys.addressKey);
  policy.throttle.requireUnder(addressFailures, now);
  const pointer = await deps.links.find(tokenHash);
  const [state, record] = pointer ? await Promise.all([deps.links.get(pointer.patientId), deps.store.getRecord(pointer.patientId)]) : [undefined, undefined];
  if (deathOf(policy, { tokenHash, pointer, state, record }, now) !== undefined) {
    await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
    throw policy.errors.gone();
  }
  return { tokenHash, state: state!, record: record! };
}

async function lookUpTogether<D extends object, A, B>(
  deps: LinkDeps<D>,
  policy: Pick<LinkPolicy<D>, 'maxFailures' | 'recordAllows' | 'errors' | 'throttle'>,
  token: string,
  sourceIp: string,
  reads: LookUpReads<A, B>,
): Promise<LiveLinkWith<D, A, B>> {
  const now = deps.clock();
  const tokenHash = sha256(token);
  const keys = policy.throttle.keys(`link:${tokenHash}`, sourceIp, now);
  const guardKeys = policy.throttle.guardCompare ? policy.throttle.keys(`pin:${tokenHash}`, sourceIp, now) : undefined;
  const [{ addressFailures }, pointer, guardCounters, first] = await readTogether(deps.store, () =>
    Promise.all([
      deps.throttle.read(keys.accountKey, keys.addressKey),
      deps.links.find(tokenHash),
      guardKeys ? deps.throttle.read(guardKeys.accountKey, guardKeys.addressKey) : undefined,
      reads.first ? reads.first() : (undefined as A),
    ]),
  );
  policy.throttle.requireUnder(addressFailures, now);
  const [state, record, withState] = pointer
    ? await readTogether(deps.store, () =>
        Promise.all([deps.links.get(pointer.patientId), deps.store.getRecord(pointer.patientId), reads.withState ? reads.withState(pointer.patientId) : (undefined as B)]),
      )
    : [undefined, undefined, undefined as B];
  if (deathOf(policy, { tokenHash, pointer, state, record }, now) !== undefined) {
    await deps.throttle.recordFailure(keys.accountKey, keys.addressKey, now);
    throw policy.errors.gone();
  }
  return {
    tokenHash,
    state: state!,
    record: record!,
    ...(guardKeys && guardCounters ? { guardRead: { keys: guardKeys, counters: guardCounters } } : {}),
    first,
    withState,
  };
}

// ------------------------------------------------------------------------------ secrets

/** A try reserved for a right secret set: give it back when the flow no longer needs it held. */
export interface HeldTry {
  release(): Promise<void>;
}

const anonymous = (sourceIp: string): Actor => ({ id: 'anonymous', sourceIp });

/**
 * Reserves a try, then compares every secret of the policy (all of them, whichever is wrong). A
 * wrong set is counted (its try kept) and throws `errors.wrongSecret(locked)`; the one that
 * reaches maxFailures locks the link. A right set returns the try still reserved. Any other
 * failure gives the try back.
 */
export async function checkSecrets<D extends object>(
  deps: LinkDeps<D>,
  policy: LinkPolicy<D>,
  live: LiveLink<D>,
  typed: Record<string, string>,
  sourceIp: string,
): Promise<HeldTry> {
  const { patientId, linkId } = live.state;
  const release = () => deps.links.releaseTry(patientId, linkId).catch(() => undefined);
  const reserved = await deps.links.reserveTry(patientId, linkId).catch(async (err: unknown) => {
    // Reserved all the same with only the answer lost? Give it back, or a retry finds one try fewer.
    await release();
    throw err;
  });
  if (reserved === 'gone') throw policy.errors.gone();
  if (reserved === 'busy') throw policy.errors.busy();
  try {
    await compareSecrets(deps, policy, live, live.state, typed, sourceIp);
  } catch (err) {
    if (!isRefusal(err)) {
      await release();
      throw err;
    }
    throw policy.errors.wrongSecret(await countWrongSet(deps, policy, live.state, sourceIp));
  }
  return { release };
}

/**
 * Compares every secret of the policy (all of them, whichever is wrong) against `state`'s stored
 * forms, inside the policy's guard; throws `refusal()` for a wrong set. The guard's counters come
 * from the look-up when it read them (`live.guardRead`), else the guard reads them itself.
 */
async function compareSecrets<D extends object>(
  deps: LinkDeps<D>,
  policy: LinkPolicy<D>,
  live: LiveLink<D>,
  state: LinkState<D>,
  typed: Record<string, string>,
  sourceIp: string,
): Promise<void> {
  const compare = async () => {
    let right = true;
    for (const secret of policy.secrets) {
      const value = typed[secret.name];
      const ok = value !== undefined && (await secret.matches(value, state.secrets?.[secret.name], state, live.record));
      right = right && ok;
    }
    if (!right) throw refusal();
  };
  if (!policy.throttle.guardCompare) return compare();
  const pre = live.guardRead;
  const keys = pre?.keys ?? policy.throttle.keys(`pin:${live.tokenHash}`, sourceIp, deps.clock());
  await policy.throttle.guardCompare(pre ? { ...deps, throttle: alreadyRead(deps.throttle, pre) } : deps, keys, compare);
}

/** The throttle store with one read already done: its first read of those keys answers what was read. */
function alreadyRead(throttle: ThrottleStore, pre: NonNullable<LiveLink['guardRead']>): ThrottleStore {
  let unused = true;
  const read: ThrottleStore['read'] = (accountKey, addressKey) => {
    if (unused && accountKey === pre.keys.accountKey && addressKey === pre.keys.addressKey) {
      unused = false;
      return Promise.resolve(pre.counters);
    }
    return throttle.read(accountKey, addressKey);
  };
  return Object.assign(Object.create(throttle) as ThrottleStore, { read });
}

/** Counts a wrong set; the one that reaches maxFailures locks the link. True when it is now locked. */
async function countWrongSet<D extends object>(deps: LinkDeps<D>, policy: LinkPolicy<D>, state: LinkState<D>, sourceIp: string, leaseId?: string): Promise<boolean> {
  const { patientId, linkId } = state;
  let failures: number | undefined;
  try {
    // Under a lease (useLink) the count lets go of it in the same write; the try stays spent.
    failures = await (leaseId ? deps.links.countFailure(patientId, linkId, { leaseId }) : deps.links.countFailure(patientId, linkId));
  } catch (err) {
    if (leaseId) await deps.links.releaseLease(patientId, leaseId).catch(() => undefined);
    throw err;
  }
  const locked = failures !== undefined && failures >= policy.maxFailures;
  await deps.store.appendAudit(
    auditEvent(anonymous(sourceIp), patientTarget(patientId), policy.audit.wrongSecret, deps.clock(), { failures: failures ?? policy.maxFailures }, 'failure'),
  );
  if (locked) await lock(deps, policy, patientId, linkId, sourceIp);
  return locked;
}

/**
 * Marks the state Locked, deletes the pointer, and makes the policy's record change. Until this
 * commits, the counter alone already makes the link dead (deathOf), so a crash here leaves no
 * working link.
 */
export async function lock<D extends object>(deps: LinkDeps<D>, policy: LinkPolicy<D>, patientId: string, linkId: string, sourceIp: string): Promise<void> {
  await retryOnConflict(async () => {
    const now = deps.clock();
    const [record, current] = await Promise.all([deps.store.getRecord(patientId), deps.links.get(patientId)]);
    if (!record || current?.linkId !== linkId || current.status !== 'Pending') return;
    const changed = policy.onLock?.(record);
    try {
      await deps.links.write({
        state: { next: ended(current, 'Locked'), expectedVersion: current.version },
        ...(changed
          ? { record: { next: { ...changed, updatedAt: now.toISOString(), version: record.version + 1 }, expectedVersion: record.version } }
          : {}),
        ...(current.tokenHash ? { deletePointer: current.tokenHash } : {}),
        audit: auditEvent(anonymous(sourceIp), patientTarget(patientId), policy.audit.locked, now, { failures: current.failures }, 'failure'),
      });
    } catch (err) {
      // Another wrong set locked it first, or staff acted: read again and see.
      if (err instanceof DomainError && err.code === policy.errors.conflict().code) throw versionConflict();
      throw err;
    }
  });
}

// ------------------------------------------------------------------------------ lease and commit

/** What the commit does, for one flow. */
export interface CommitSteps<D extends object> {
  /** The login to fix at the first lease when the link has none yet (registration); a reset's is fixed at issue. */
  newAccountId?: string;
  /** The outside step between the lease and the commit (Cognito), safe to repeat for the same accountId. */
  outside(accountId: string): Promise<void>;
  /** Undoes the outside step after a definite refusal (a login made for nothing). */
  undo?(accountId: string): Promise<void>;
  /**
   * The commit, from the record read just before it: throw `errors.gone()` when the record no
   * longer qualifies. `state` is the leased state; `record.next` gets its version and updatedAt here.
   */
  commit(
    record: StoredRecord | undefined,
    state: LinkState<D>,
    at: Date,
    accountId: string,
  ): Omit<LinkCompletion<D>, 'state' | 'leaseId' | 'tokenHash' | 'record'> & { record: StoredRecord };
}

/**
 * Lease, outside step, one transaction. Throws `errors.busy()` while another request holds the
 * lease, `errors.gone()` when the link died meanwhile, or what `complete` throws. After an
 * unknown outcome of the commit it asks whether the commit happened (`commitHappened`) and
 * answers success if so; after a definite refusal it undoes the outside step. The lease is let
 * go on every failure, so the same request can be repeated.
 */
export async function leaseAndCommit<D extends object>(
  deps: Pick<LinkDeps<D>, 'store' | 'links' | 'clock'>,
  policy: LinkPolicy<D>,
  live: Pick<LiveLink<D>, 'tokenHash' | 'state'>,
  steps: CommitSteps<D>,
): Promise<{ accountId: string }> {
  const { tokenHash } = live;
  const { patientId, linkId } = live.state;
  const now = deps.clock();
  const lease = { id: randomUUID(), until: new Date(now.getTime() + policy.leaseSeconds * 1000).toISOString() };
  let taken: LeaseResult<D>;
  try {
    taken = await deps.links.takeLease(patientId, linkId, tokenHash, lease, steps.newAccountId, now);
  } catch (err) {
    // The lease may be taken all the same (an answer lost on the way back): let go of it, or the
    // retry would wait out leaseSeconds behind its own earlier attempt.
    await deps.links.releaseLease(patientId, lease.id).catch(() => undefined);
    throw err;
  }
  if (taken.kind === 'held') throw policy.errors.busy();
  if (taken.kind === 'gone') throw policy.errors.gone();
  return outsideAndCommit(deps, policy, { tokenHash, leased: taken.state, leaseId: lease.id }, steps, () =>
    deps.links.releaseLease(patientId, lease.id).catch(() => undefined),
  );
}

/**
 * The outside step and the one transaction, under a lease this request holds. `record`: the
 * record as the request already read it (the commit is conditional on its version, so a change
 * since costs a retry that reads afresh); without it the record is read just before the commit.
 * `letGo` gives the lease (and what else the caller holds) back on every failure.
 */
async function outsideAndCommit<D extends object>(
  deps: Pick<LinkDeps<D>, 'store' | 'links' | 'clock'>,
  policy: LinkPolicy<D>,
  held: { tokenHash: string; leased: LinkState<D>; leaseId: string; record?: StoredRecord },
  steps: CommitSteps<D>,
  letGo: () => Promise<void>,
): Promise<{ accountId: string }> {
  const { tokenHash, leased, leaseId } = held;
  const { patientId, linkId } = leased;
  const accountId = leased.accountId;
  if (!accountId) {
    await letGo();
    throw new Error(`${policy.kind}: a leased link without an accountId`);
  }
  let known = held.record;
  let outsideDone = false;
  try {
    await steps.outside(accountId);
    outsideDone = true;
    await retryOnConflict(async () => {
      const at = deps.clock();
      const record = known ?? (await deps.store.getRecord(patientId));
      known = undefined;
      const { record: next, ...rest } = steps.commit(record, leased, at, accountId);
      await deps.links.complete({
        ...rest,
        record: { next: { ...next, updatedAt: at.toISOString(), version: record!.version + 1 }, expectedVersion: record!.version },
        state: ended(leased, 'Used'),
        leaseId,
        tokenHash,
      });
    });
  } catch (err) {
    const definite = err instanceof DomainError && (err.code === 'username-taken' || err.code === policy.errors.gone().code);
    // The commit may be done with only its answer lost: then this request is the only one that
    // can still say it succeeded (a retry meets a used link).
    if (!definite && outsideDone && (await commitHappened(deps.links, patientId, linkId))) return { accountId };
    // Undo only what surely will not be used: after an unknown outcome a retry completes it.
    if (definite && outsideDone) await steps.undo?.(accountId).catch(() => undefined);
    await letGo();
    throw err;
  }
  return { accountId };
}

/** What `useLink` does between the secrets and the outside step. */
export interface UseSteps<D extends object> extends CommitSteps<D> {
  /** The flow's own checks once the secrets are right (password rules, username free): a throw gives the try back. */
  check?(): Promise<void> | void;
}

/**
 * Secrets, lease and commit in as few writes as rule 5 allows (issue 16): ONE conditional write
 * takes the lease and reserves the try together (rule 5: a try is spent before any compare, and
 * with one lease per link only one compare runs at a time, so 20 concurrent guesses get one
 * compare and 409s, never more than maxFailures in all); the secrets are compared under it; a
 * wrong set is counted and the lease let go in one write (the try stays spent), the 5th locks;
 * `steps.check`; the outside step; one transaction, conditional on the record as `live` read it
 * (no re-read) and on the lease. A success keeps the try (the link is used); any other failure
 * gives lease and try back in one write, so the same request can be repeated. After an unknown
 * outcome of the commit, `commitHappened` decides as in leaseAndCommit.
 */
export async function useLink<D extends object>(
  deps: LinkDeps<D>,
  policy: LinkPolicy<D>,
  live: LiveLink<D>,
  typed: Record<string, string>,
  sourceIp: string,
  steps: UseSteps<D>,
): Promise<{ accountId: string }> {
  const { tokenHash } = live;
  const { patientId, linkId } = live.state;
  const now = deps.clock();
  const lease = { id: randomUUID(), until: new Date(now.getTime() + policy.leaseSeconds * 1000).toISOString() };
  const letGo = () => deps.links.releaseLease(patientId, lease.id, { returnTry: true }).catch(() => undefined);
  let taken: LeaseResult<D>;
  try {
    taken = await deps.links.takeLease(patientId, linkId, tokenHash, lease, steps.newAccountId, now, { reserveTry: true });
  } catch (err) {
    // Taken all the same with only the answer lost? Give lease and try back, or a retry waits on itself.
    await letGo();
    throw err;
  }
  if (taken.kind === 'held') throw policy.errors.busy();
  if (taken.kind === 'gone') throw policy.errors.gone();
  const leased = taken.state;
  try {
    await compareSecrets(deps, policy, live, leased, typed, sourceIp);
  } catch (err) {
    if (!isRefusal(err)) {
      await letGo();
      throw err;
    }
    throw policy.errors.wrongSecret(await countWrongSet(deps, policy, leased, sourceIp, lease.id));
  }
  try {
    await steps.check?.();
  } catch (err) {
    await letGo();
    throw err;
  }
  return outsideAndCommit(deps, policy, { tokenHash, leased, leaseId: lease.id, record: live.record }, steps, letGo);
}

/** "Did my commit happen?" after a lost answer: the link `linkId` reads Used. A failed read counts as no. */
export async function commitHappened(links: Pick<LinkStore<any>, 'get'>, patientId: string, linkId: string): Promise<boolean> {
  return links.get(patientId).then(
    (s) => s?.linkId === linkId && s.status === 'Used',
    () => false,
  );
}
