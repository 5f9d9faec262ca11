/**
 * Guessing limits for password sign-in (security rules 5 and 6), checked before the identity
 * provider is asked, so a throttled attempt never reaches Cognito.
 *
 * Per account: the first 5 consecutive failures are free; after that each attempt must wait
 * 30 s, doubling up to 15 minutes since the last failure; 100 consecutive failures lock the
 * account until a reset or a staff action clears the counter. Failures count per username
 * whatever the source address, and the same for usernames that do not exist, so the answers
 * reveal nothing about which accounts exist.
 * Per source address: at most 100 failures in a 15-minute window.
 */
import { createHash } from 'node:crypto';
import { DomainError } from './errors.ts';
import type { AuditEvent } from './audit.ts';
import { readTogether, type Clock } from './ports.ts';

export const throttlePolicy = {
  freeFailures: 5,
  firstDelaySeconds: 30,
  maxDelaySeconds: 15 * 60,
  lockAfterFailures: 100,
  /** Consecutive failures older than this are forgotten (unless the account is locked). */
  forgetAfterSeconds: 24 * 60 * 60,
  addressFailuresPerWindow: 100,
  addressWindowSeconds: 15 * 60,
} as const;

export interface AccountFailures {
  failures: number;
  lastFailureAt: number; // epoch ms
}

export interface ThrottleStore {
  /** As RecordStore.together (ports.ts): reads started at once go out as one call. Optional. */
  together?<T>(reads: () => Promise<T>): Promise<T>;
  read(accountKey: string, addressKey: string): Promise<{ account?: AccountFailures; addressFailures: number }>;
  recordFailure(accountKey: string, addressKey: string, now: Date): Promise<void>;
  /**
   * Deletes the account's counter; with `audit`, in one transaction with that audit event (the
   * sign-in's own entry), so a successful sign-in clears its reservation without a write of its own.
   */
  clearAccount(accountKey: string, audit?: AuditEvent): Promise<void>;
  /**
   * Counts a failure on the account before the attempt is made, and only while its state is
   * still `seen` (undefined: no failures): false when another attempt changed it first. So
   * concurrent attempts cannot all pass the check and all reach the identity provider.
   */
  reserve(accountKey: string, seen: AccountFailures | undefined, now: Date): Promise<boolean>;
  /** Settles a reserved attempt that failed: `refused` adds the address's failure; `error` gives the account's back. */
  settle(accountKey: string, addressKey: string, outcome: 'refused' | 'error', now: Date): Promise<void>;
}

type ThrottlePool = 'staff' | 'patient' | 'lobby' | 'invitation' | 'reset';
const hash = (v: string) => createHash('sha256').update(v).digest('base64url');

/** The per-account key alone: what the diagnosis reads and an unlock clears (no source address involved). */
export const accountThrottleKey = (pool: ThrottlePool, username: string): string => hash(`${pool}:account:${username.trim().toLowerCase()}`);

/** Keys never hold the username or address in clear: they are hashed with the pool's name. */
export function throttleKeys(pool: ThrottlePool, username: string, sourceIp: string, now: Date) {
  const window = Math.floor(now.getTime() / 1000 / throttlePolicy.addressWindowSeconds);
  return {
    accountKey: accountThrottleKey(pool, username),
    addressKey: hash(`${pool}:address:${sourceIp}:${window}`),
  };
}

/** Seconds the account must still wait, Infinity when locked, 0 when it may try now. */
export function accountWaitSeconds(state: AccountFailures | undefined, now: Date): number {
  if (!state) return 0;
  const { failures, lastFailureAt } = state;
  const p = throttlePolicy;
  if (failures >= p.lockAfterFailures) return Infinity;
  const sinceLast = (now.getTime() - lastFailureAt) / 1000;
  if (sinceLast > p.forgetAfterSeconds || failures < p.freeFailures) return 0;
  const delay = Math.min(p.maxDelaySeconds, p.firstDelaySeconds * 2 ** (failures - p.freeFailures));
  return Math.max(0, Math.ceil(delay - sinceLast));
}

export interface ThrottleDeps {
  throttle: ThrottleStore;
  clock: Clock;
}

const tooMany = (retryAfterSeconds: number, detail: string) =>
  new DomainError('too-many-requests', 'too-many-attempts', detail, { retryAfterSeconds });

/**
 * The per-address limit (rule 6), for sign-ins and for any public route that takes a secret:
 * past it, 429 with Retry-After until the current window ends.
 */
export function requireAddressUnderLimit(
  addressFailures: number,
  now: Date,
  detail = 'Too many attempts from this address. Wait before trying again.',
): void {
  if (addressFailures < throttlePolicy.addressFailuresPerWindow) return;
  const windowMs = throttlePolicy.addressWindowSeconds * 1000;
  throw tooMany(Math.ceil((windowMs - (now.getTime() % windowMs)) / 1000), detail);
}

/** 429 while the account must wait or is locked, or the address is past its limit. */
function requireMayTry(account: AccountFailures | undefined, addressFailures: number, now: Date): void {
  const wait = accountWaitSeconds(account, now);
  if (wait === Infinity) {
    throw tooMany(throttlePolicy.maxDelaySeconds, 'Too many failed sign-ins: this account is locked. Reset your password or ask the practice.');
  }
  if (wait > 0) throw tooMany(wait, 'Too many failed sign-ins. Wait before trying again.');
  requireAddressUnderLimit(addressFailures, now, 'Too many failed sign-ins from this address. Wait before trying again.');
}

/**
 * Runs one sign-in attempt under the limits. `attempt` must throw the `invalid-credentials`
 * DomainError for a refused password; that, and only that, counts as a failure. With `reserve`
 * (passwords), the try is counted before the attempt, so concurrent attempts on one account
 * reach the identity provider no more often than sequential ones would (rule 5).
 *
 * `alsoRead`: items the attempt needs whose keys are known now (a username's login), read in the
 * same call as the counters, and handed to `attempt` (`together`: the counters in one call). `clearLater`: a successful attempt leaves
 * its reservation for the caller to clear together with its audit entry (`clearAccount(key,
 * audit)`: one transaction instead of a delete and a put); the caller must clear it on every
 * path after a right password.
 */
export async function throttledSignIn<T, R = undefined>(
  { throttle, clock }: ThrottleDeps,
  keys: { accountKey: string; addressKey: string },
  attempt: (read: R) => Promise<T>,
  options: { reserve?: boolean; alsoRead?: () => Promise<R>; clearLater?: boolean; together?: boolean } = {},
): Promise<T> {
  const now = clock();
  const reads = () => Promise.all([throttle.read(keys.accountKey, keys.addressKey), options.alsoRead ? options.alsoRead() : (undefined as R)]);
  // Flows that ask for it (`together`, or with `alsoRead`) read the counters in one call; the others keep their call sequence.
  const first = await (options.together || options.alsoRead ? readTogether(throttle, reads) : reads());
  const read = first[1];
  if (!options.reserve) return checkThenCount({ throttle, clock }, keys, first[0], () => attempt(read), now);
  let state = first[0];
  for (let look = 1; ; look++) {
    requireMayTry(state.account, state.addressFailures, now);
    // The attempt counts as a failure until it succeeds: concurrent attempts each take a try.
    if (await throttle.reserve(keys.accountKey, state.account, now)) break;
    if (look >= maxLooks) throw tooMany(1, 'Too many sign-ins at once on this account. Wait before trying again.');
    state = await throttle.read(keys.accountKey, keys.addressKey);
  }
  try {
    const result = await attempt(read);
    if (!options.clearLater) await throttle.clearAccount(keys.accountKey);
    return result;
  } catch (err) {
    const refused = err instanceof DomainError && err.code === 'invalid-credentials';
    await throttle.settle(keys.accountKey, keys.addressKey, refused ? 'refused' : 'error', now);
    throw err;
  }
}

/** How often an attempt looks again after another attempt on the same account changed its count. */
const maxLooks = 20;

/**
 * Without a reservation: concurrent attempts may all pass the check. Kept for one-time,
 * high-entropy secrets (invitation PINs, lobby passwords) that have limits of their own and
 * where 20 right answers at once must not turn into 429s; passwords reserve (rule 5).
 */
async function checkThenCount<T>(
  { throttle }: ThrottleDeps,
  keys: { accountKey: string; addressKey: string },
  { account, addressFailures }: { account?: AccountFailures; addressFailures: number },
  attempt: () => Promise<T>,
  now: Date,
): Promise<T> {
  requireMayTry(account, addressFailures, now);
  try {
    const result = await attempt();
    if (account) await throttle.clearAccount(keys.accountKey);
    return result;
  } catch (err) {
    if (err instanceof DomainError && err.code === 'invalid-credentials') await throttle.recordFailure(keys.accountKey, keys.addressKey, now);
    throw err;
  }
}
