/**
 * The one place DynamoDB calls are retried (security rule 35): a middleware on the shared
 * DynamoDB client (clients.ts), so every adapter and every command gets it.
 *
 * Why our own, and not the SDK's standard retry strategy:
 *   - the SDK (standard mode) retries throttling (ProvisionedThroughputExceededException,
 *     ThrottlingException, RequestLimitExceeded, TransactionInProgressException) and transient
 *     errors (timeouts, resets, 500/502/503/504), but NOT TransactionConflictException nor a
 *     TransactionCanceledException whose reasons are TransactionConflict or ThrottlingError:
 *     those are 400 client errors to it, and reached our handlers as a 500;
 *   - for DynamoDB the SDK now makes 4 attempts with a throttling backoff base of 1 s (up to
 *     1 + 2 + 4 s of sleeping), most of a 10 s Lambda timeout for one call.
 * So the client is made with `maxAttempts: 1` and this middleware decides for every error, with
 * full jitter (delay = random × min(cap, base × 2^retry)), a few attempts, and a time budget.
 *
 * What it retries:
 *   - busy: TransactionConflictException, ProvisionedThroughputExceededException,
 *     ThrottlingException, RequestLimitExceeded, TransactionInProgressException, and a
 *     TransactionCanceledException whose every reason that is not `None` is TransactionConflict,
 *     ThrottlingError or ProvisionedThroughputExceeded. When these persist it throws
 *     `BackendBusy`, answered 503 with Retry-After (lambdas/http/handler-core.ts).
 *   - transient (what the SDK retried before): timeouts, connection resets, 5xx. When these
 *     persist the last error is thrown as it is (a 500: our side failed).
 * Anything else, a ConditionalCheckFailed cancellation above all, is a real answer and passes
 * straight through, untouched, to the adapter's own mapping.
 *
 * Idempotency: each attempt runs the whole stack again (serialization included). The SDK would
 * generate a new ClientRequestToken for TransactWriteItems on every serialization, so a retry
 * after an attempt whose outcome is unknown (a timeout, a reset) could apply the transaction a
 * second time. We set the token once, before the first attempt, so every attempt of one call
 * carries the same token: DynamoDB then applies it at most once (for 10 minutes, far longer than
 * our budget), and answers a repeat of a committed token with success. Refused attempts (conflict,
 * throttling) did nothing, so repeating them with the same token is what the SDK itself does for
 * throttling. Single-item writes are retried only as the SDK retried them before (their
 * conditions make a repeat answer ConditionalCheckFailed rather than apply twice).
 */
import { randomUUID } from 'node:crypto';
import { BackendBusy } from '../domain/errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff before retry i (0-based) is random() × min(capMs, baseMs × 2^i). */
  baseMs: number;
  capMs: number;
  /** No retry starts (its sleep included) later than this after the first attempt began. */
  budgetMs: number;
  /** Seconds a client is told to wait when we give up on a busy table. */
  retryAfterSeconds: number;
}

/** Worst case: 4 sleeps of at most 100, 200, 400, 800 ms, never past 2.5 s; well under the 10 s Lambda timeout. */
export const defaultPolicy: RetryPolicy = { maxAttempts: 5, baseMs: 100, capMs: 1000, budgetMs: 2500, retryAfterSeconds: 1 };

export interface RetryEnv {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => number;
}

const realEnv: RetryEnv = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: () => performance.now(),
};

const busyNames = new Set([
  'TransactionConflictException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
]);
const busyReasons = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);
const transientNames = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'InternalServerError']);
const transientCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const transientStatus = new Set([500, 502, 503, 504]);

type ErrorLike = {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean };
  CancellationReasons?: { Code?: string }[];
};

export type Verdict = 'busy' | 'transient' | 'answer';

/** What an error from one attempt means: retry it as busy, retry it as transient, or a real answer. */
export function classify(err: unknown): Verdict {
  if (!err || typeof err !== 'object') return 'answer';
  const e = err as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  if (busyNames.has(name)) return 'busy';
  if (name === 'TransactionCanceledException') {
    const codes = (e.CancellationReasons ?? []).map((r) => r?.Code ?? 'None').filter((c) => c !== 'None');
    return codes.length > 0 && codes.every((c) => busyReasons.has(c)) ? 'busy' : 'answer';
  }
  if (name === 'AbortError') return 'answer';
  if (transientNames.has(name)) return 'transient';
  if (typeof e.code === 'string' && transientCodes.has(e.code)) return 'transient';
  if (transientStatus.has(e.$metadata?.httpStatusCode ?? 0)) return 'transient';
  if (e.$metadata?.clockSkewCorrected) return 'transient';
  return 'answer';
}

/** The backoff before retry `retry` (0-based), full jitter. */
export const backoffMs = (policy: RetryPolicy, retry: number, random: () => number): number =>
  Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** retry));

/**
 * Runs `attempt` until it succeeds, its error is a real answer, or the policy gives up: then a
 * busy error becomes `BackendBusy` and any other is thrown as it is.
 */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy = defaultPolicy, env: RetryEnv = realEnv): Promise<T> {
  const started = env.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const verdict = classify(err);
      if (verdict === 'answer') throw err;
      const delay = backoffMs(policy, n - 1, env.random);
      const giveUp = n >= policy.maxAttempts || env.now() - started + delay > policy.budgetMs;
      if (giveUp) {
        if (verdict === 'busy') throw new BackendBusy(policy.retryAfterSeconds, err);
        throw err;
      }
      await env.sleep(delay);
    }
  }
}

type Next = (args: { input: Record<string, unknown> }) => Promise<unknown>;
type Context = { commandName?: string };

/** The middleware for the client's stack (initialize step, so each attempt runs the whole stack). */
export const retryMiddleware =
  (policy: RetryPolicy = defaultPolicy, env: RetryEnv = realEnv) =>
  (next: Next, context: Context) =>
  async (args: { input: Record<string, unknown> }) => {
    const needsToken = context.commandName === 'TransactWriteItemsCommand' && !args.input.ClientRequestToken;
    const sent = needsToken ? { ...args, input: { ...args.input, ClientRequestToken: randomUUID() } } : args;
    return withRetries(() => next(sent), policy, env);
  };

export const retryMiddlewareOptions = { step: 'initialize', priority: 'low', name: 'portalAccessDynamoRetry' } as const;
