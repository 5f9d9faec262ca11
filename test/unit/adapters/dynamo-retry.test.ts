/**
 * Rule 35: DynamoDB conflicts and throttling are retried with backoff in one place
 * (lambdas/adapters/dynamo-retry.ts) and, when they persist, answered 503 with Retry-After.
 * The policy is driven here with an injected sleep, random and clock; the middleware through a
 * real document client whose "service" is a build-step stub (no network).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { backoffMs, classify, defaultPolicy, retryMiddleware, retryMiddlewareOptions, withRetries, type RetryEnv, type RetryPolicy } from '../../../lambdas/adapters/dynamo-retry.ts';
import { BackendBusy } from '../../../lambdas/domain/errors.ts';
import { buildHandlerFor as buildHandler } from '../../support/build-handler.ts';
import { apiEvent, call } from '../../support/events.ts';

const meta = { $metadata: {} };
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ ...meta, message: 'Transaction cancelled', CancellationReasons: codes.map((Code) => ({ Code })) });
const conflict = () => new TransactionConflictException({ ...meta, message: 'conflict' });
const throttled = () => new ProvisionedThroughputExceededException({ ...meta, message: 'throttled' });
const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });

/** A fake environment: sleeps only advance the clock; random is fixed. */
function fakeEnv(random = 0.5): RetryEnv & { sleeps: number[]; clock: { t: number } } {
  const clock = { t: 0 };
  const sleeps: number[] = [];
  return {
    sleeps,
    clock,
    random: () => random,
    now: () => clock.t,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.t += ms;
    },
  };
}

/** An attempt function that fails with `errors` in turn, then answers "done". */
function failing(...errors: (() => unknown)[]) {
  let calls = 0;
  const attempt = async () => {
    const make = errors[calls++];
    if (make) throw make();
    return 'done';
  };
  return { attempt, calls: () => calls };
}

describe('rule 35: which DynamoDB errors are retried', () => {
  it.each([
    ['TransactionConflictException', conflict()],
    ['ProvisionedThroughputExceededException', throttled()],
    ['ThrottlingException', named('ThrottlingException')],
    ['RequestLimitExceeded', named('RequestLimitExceeded')],
    ['TransactionInProgressException', named('TransactionInProgressException')],
    ['a cancellation by TransactionConflict', cancelled('None', 'TransactionConflict', 'None')],
    ['a cancellation by ThrottlingError', cancelled('ThrottlingError', 'None')],
    ['a cancellation by ProvisionedThroughputExceeded and TransactionConflict', cancelled('ProvisionedThroughputExceeded', 'TransactionConflict')],
  ])('%s is busy: retried, 503 when it persists', (_, err) => {
    expect(classify(err)).toBe('busy');
  });

  it.each([
    ['a cancellation by ConditionalCheckFailed', cancelled('ConditionalCheckFailed', 'None')],
    ['a ConditionalCheckFailed beside a conflict (the condition is a real answer)', cancelled('TransactionConflict', 'ConditionalCheckFailed')],
    ['a cancellation with only None reasons', cancelled('None', 'None')],
    ['a cancellation with no reasons', new TransactionCanceledException({ ...meta, message: 'x' })],
    ['a cancellation by ValidationError', cancelled('ValidationError')],
    ['ConditionalCheckFailedException', new ConditionalCheckFailedException({ ...meta, message: 'x' })],
    ['ValidationException', named('ValidationException', { $metadata: { httpStatusCode: 400 } })],
    ['ResourceNotFoundException', named('ResourceNotFoundException', { $metadata: { httpStatusCode: 400 } })],
    ['an AbortError', named('AbortError')],
    ['a DomainError-like plain error', new Error('x')],
    ['not an error at all', 'string'],
  ])('%s is an answer: passed straight through', (_, err) => {
    expect(classify(err)).toBe('answer');
  });

  it.each([
    ['a timeout', named('TimeoutError')],
    ['a connection reset', named('Error', { code: 'ECONNRESET' })],
    ['a 500', named('InternalServerError', { $metadata: { httpStatusCode: 500 } })],
    ['a 503', named('ServiceUnavailable', { $metadata: { httpStatusCode: 503 } })],
  ])('%s is transient: retried as the SDK did, thrown as it is when it persists', (_, err) => {
    expect(classify(err)).toBe('transient');
  });
});

describe('rule 35: the retry loop', () => {
  it('a transient conflict is retried and the call succeeds', async () => {
    const env = fakeEnv();
    const f = failing(conflict, () => cancelled('TransactionConflict'));
    await expect(withRetries(f.attempt, defaultPolicy, env)).resolves.toBe('done');
    expect(f.calls()).toBe(3);
    expect(env.sleeps).toHaveLength(2);
  });

  it('a ConditionalCheckFailed cancellation passes through untouched, after one attempt, with no sleep', async () => {
    const env = fakeEnv();
    const original = cancelled('ConditionalCheckFailed', 'None');
    const f = failing(() => original);
    const err = await withRetries(f.attempt, defaultPolicy, env).catch((e: unknown) => e);
    expect(err).toBe(original);
    expect(f.calls()).toBe(1);
    expect(env.sleeps).toEqual([]);
  });

  it('a persistent conflict gives up after maxAttempts with BackendBusy carrying the Retry-After', async () => {
    const env = fakeEnv();
    const f = failing(...Array.from({ length: 50 }, () => conflict));
    const err = await withRetries(f.attempt, defaultPolicy, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendBusy);
    expect((err as BackendBusy).retryAfterSeconds).toBe(defaultPolicy.retryAfterSeconds);
    expect((err as BackendBusy).last).toBeInstanceOf(TransactionConflictException);
    expect(f.calls()).toBe(defaultPolicy.maxAttempts);
    expect(env.sleeps).toHaveLength(defaultPolicy.maxAttempts - 1);
  });

  it('a persistent transient error is thrown as it is (a 500), not as busy', async () => {
    const env = fakeEnv();
    const f = failing(...Array.from({ length: 50 }, () => () => named('TimeoutError')));
    const err = await withRetries(f.attempt, defaultPolicy, env).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(BackendBusy);
    expect((err as Error).name).toBe('TimeoutError');
    expect(f.calls()).toBe(defaultPolicy.maxAttempts);
  });

  it('full jitter: each sleep is random × min(cap, base × 2^retry), from 0 up to that bound', async () => {
    for (const random of [0, 0.25, 0.999999]) {
      const env = fakeEnv(random);
      const policy: RetryPolicy = { ...defaultPolicy, maxAttempts: 8, budgetMs: 60_000 };
      await withRetries(failing(...Array.from({ length: 50 }, () => throttled)).attempt, policy, env).catch(() => undefined);
      const bounds = env.sleeps.map((_, i) => Math.min(policy.capMs, policy.baseMs * 2 ** i));
      expect(env.sleeps).toEqual(bounds.map((b) => Math.floor(random * b)));
      for (const [i, s] of env.sleeps.entries()) {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(bounds[i]!);
      }
    }
    expect(backoffMs(defaultPolicy, 30, () => 0.999)).toBeLessThanOrEqual(defaultPolicy.capMs);
  });

  it('the time budget ends the retries before maxAttempts when attempts are slow', async () => {
    const env = fakeEnv(0.999);
    const policy: RetryPolicy = { ...defaultPolicy, maxAttempts: 100 };
    let calls = 0;
    const err = await withRetries(
      async () => {
        calls++;
        env.clock.t += 700; // each attempt takes 0.7 s before the table refuses it
        throw throttled();
      },
      policy,
      env,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendBusy);
    expect(calls).toBeLessThan(10);
    // No sleep ever began that would have ended past the budget.
    expect(env.clock.t - 700).toBeLessThanOrEqual(policy.budgetMs);
  });

  it('the default policy sleeps at most 2.5 s in all, well under the 10 s Lambda timeout', () => {
    const worst = Array.from({ length: defaultPolicy.maxAttempts - 1 }, (_, i) => backoffMs(defaultPolicy, i, () => 0.999999)).reduce((a, b) => a + b, 0);
    expect(Math.min(worst, defaultPolicy.budgetMs)).toBeLessThanOrEqual(2500);
    expect(defaultPolicy.budgetMs).toBeLessThan(10_000 / 3);
  });
});

describe('rule 35: the middleware on a real document client', () => {
  /** A document client with the retry middleware whose "service" answers with `answers` in turn (build step: after serialization). */
  function clientAnswering(answers: (() => unknown)[]) {
    const base = new DynamoDBClient({ region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, endpoint: 'http://127.0.0.1:9' });
    const env = fakeEnv();
    base.middlewareStack.add(retryMiddleware(defaultPolicy, env) as never, retryMiddlewareOptions);
    const bodies: Record<string, unknown>[] = [];
    let n = 0;
    base.middlewareStack.add(
      (() => async (args: { request: { body: string | Uint8Array } }) => {
        const raw = args.request.body;
        bodies.push(JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw)) as Record<string, unknown>);
        const make = answers[n++];
        if (make) throw make();
        return { output: { $metadata: {} }, response: {} };
      }) as never,
      { step: 'build', priority: 'low', name: 'fakeService' },
    );
    return { db: DynamoDBDocumentClient.from(base), bodies, env };
  }

  const transaction = new TransactWriteCommand({
    TransactItems: [{ Put: { TableName: 't', Item: { pk: 'a', sk: 'b', n: 1 } } }, { Put: { TableName: 't', Item: { pk: 'c', sk: 'd' } } }],
  });

  it('a transaction cancelled by a conflict twice is sent three times with one ClientRequestToken, and succeeds', async () => {
    const c = clientAnswering([() => cancelled('TransactionConflict', 'None'), () => cancelled('None', 'ThrottlingError')]);
    await c.db.send(transaction);
    expect(c.bodies).toHaveLength(3);
    const tokens = new Set(c.bodies.map((b) => b.ClientRequestToken));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).toMatch(/^[0-9a-f-]{36}$/);
    // Each attempt is marshalled afresh from the same input (no double marshalling).
    for (const b of c.bodies) expect((b.TransactItems as any[])[0].Put.Item.n).toEqual({ N: '1' });
  });

  it('two calls of the same transaction carry different tokens (a new call is a new transaction)', async () => {
    const c = clientAnswering([]);
    await c.db.send(transaction);
    await c.db.send(transaction);
    expect(c.bodies[0]!.ClientRequestToken).not.toBe(c.bodies[1]!.ClientRequestToken);
  });

  it('a ConditionalCheckFailed cancellation reaches the adapter untouched, after one attempt', async () => {
    const original = cancelled('None', 'ConditionalCheckFailed');
    const c = clientAnswering([() => original]);
    const err = await c.db.send(transaction).catch((e: unknown) => e);
    expect(err).toBe(original);
    expect(c.bodies).toHaveLength(1);
  });

  it('a single-item write that conflicts with a transaction until the end gives BackendBusy', async () => {
    const c = clientAnswering(Array.from({ length: 20 }, () => conflict));
    const err = await c.db.send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendBusy);
    expect(c.bodies).toHaveLength(defaultPolicy.maxAttempts);
  });
});

describe('rule 35: BackendBusy is answered 503 with Retry-After', () => {
  it('problem+json, a retry-after header, no internal name', async () => {
    const handler = buildHandler(
      'health',
      async () => {
        throw new BackendBusy(1, cancelled('TransactionConflict'));
      },
      async () => undefined as never,
    );
    const answer = await call(handler, apiEvent({ method: 'GET', path: '/health', resource: '/health' }));
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json.type).toBe('/problems/busy');
    expect(JSON.stringify(answer.json)).not.toMatch(/Transaction|Dynamo|Throttl|BackendBusy|Cancel/i);
  });
});
