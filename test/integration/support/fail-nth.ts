/**
 * Injected backend failures (security rule 24): counts every AWS SDK call the code under test
 * makes (DynamoDB, Cognito, SES, KMS, SMS) and makes exactly the Nth one fail.
 *
 * How: the first `send` of any client of those services (the document client shares its base
 * client's stack) adds one middleware to that client's middlewareStack, at the very start of the
 * `initialize` step, outside the SDK's own retries. So an injected failure is what the caller sees
 * once the SDK has given up, and it needs no change to production code: the adapters' private
 * clients (ses-mailer.ts, pin-vault.ts) are caught the same way as the shared ones in clients.ts.
 *
 * Calls are counted only inside `record()`, so the tests' own clients (reading the state
 * afterwards) are never counted or failed.
 *
 * Four kinds of failure:
 *   - `refused`: the service turns the call down for good (a 500 after every retry); nothing was done;
 *   - `lost`: the service did the work, but the answer never came back (a reset connection);
 *   - `conflict` and `throttled` (DynamoDB only, security rule 35): the table is busy, for
 *     `times` attempts of the call (default: every attempt). These are thrown INSIDE our retry
 *     layer (lambdas/adapters/dynamo-retry.ts), by a second middleware at the `build` step, as
 *     DynamoDB in AWS throws them and DynamoDB Local never does: a TransactWriteItems is
 *     cancelled with reason TransactionConflict (conflict) or ThrottlingError (throttled), a
 *     single-item write gets TransactionConflictException (conflict), anything else
 *     ProvisionedThroughputExceededException (conflict) or ThrottlingException (throttled). The
 *     call is still counted once, however often it is retried; `attempts` says how often.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import {
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SESClient } from '@aws-sdk/client-ses';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type Service = 'DynamoDB' | 'Cognito' | 'SES' | 'KMS' | 'SMS';
export type FailureKind = 'refused' | 'lost' | 'conflict' | 'throttled';
const isBusyKind = (kind: FailureKind): kind is 'conflict' | 'throttled' => kind === 'conflict' || kind === 'throttled';

export interface BackendCall {
  /** 1-based, in the order the calls were sent. */
  n: number;
  service: Service;
  /** The SDK command's name without "Command", e.g. TransactWriteItems. */
  command: string;
  /** True for the one call that was made to fail. */
  failed: boolean;
  /** For `conflict` / `throttled`: how many times the call reached the table (first attempt and retries). */
  attempts?: number;
}

/** An error of the shape the SDK throws: name, $fault, $metadata (and a code for network errors). */
export class InjectedFailure extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode?: number; attempts: number };
  readonly code?: string;
  constructor(call: BackendCall, kind: FailureKind) {
    const [name, status, fault] = kind === 'lost' ? (['TimeoutError', undefined, 'client'] as const) : refusals[call.service];
    super(kind === 'lost' ? 'socket hang up' : `${name} (injected)`);
    this.name = name;
    this.$fault = fault;
    this.$metadata = { ...(status ? { httpStatusCode: status } : {}), attempts: 3 };
    if (kind === 'lost') this.code = 'ECONNRESET';
  }
}

/** What each service answers when it turns a call down for load. */
const refusals: Record<Service, readonly [string, number, 'client' | 'server']> = {
  // Not throttling: that is a busy table, retried and answered 503 by our own layer (kinds
  // `conflict` / `throttled`). What is left once every retry is spent is a server failure.
  DynamoDB: ['InternalServerError', 500, 'server'],
  Cognito: ['TooManyRequestsException', 429, 'client'],
  SES: ['ServiceUnavailable', 503, 'server'],
  KMS: ['KMSInternalException', 500, 'server'],
  // End User Messaging SMS (phone codes, issue 17).
  SMS: ['InternalServerException', 500, 'server'],
};

interface Run {
  calls: BackendCall[];
  /** A call number, or every DynamoDB call. */
  failAt?: number | 'every-dynamodb';
  kind: FailureKind;
  /** For `conflict` / `throttled`: attempts of each failed call that fail. */
  times: number;
}

/** What the outer middleware hands the inner one for a call made busy. */
interface Busy {
  kind: 'conflict' | 'throttled';
  left: number;
  call: BackendCall;
}
const BUSY = Symbol('portalAccessFailNthBusy');

let current: Run | undefined;

type Next = (args: unknown) => Promise<unknown>;
type Context = { commandName?: string; [BUSY]?: Busy };

const middleware = (service: Service) => (next: Next, context: Context) => async (args: unknown) => {
  const run = current;
  if (!run) return next(args);
  const call: BackendCall = { n: run.calls.length + 1, service, command: (context.commandName ?? 'Unknown').replace(/Command$/, ''), failed: false };
  run.calls.push(call);
  const target = run.failAt === 'every-dynamodb' ? service === 'DynamoDB' : call.n === run.failAt;
  if (!target) return next(args);
  call.failed = true;
  if (isBusyKind(run.kind)) {
    if (service !== 'DynamoDB') throw new Error(`fail-nth: a ${run.kind} failure is for DynamoDB calls, not ${describeCall(call)}`);
    call.attempts = 0;
    context[BUSY] = { kind: run.kind, left: run.times, call };
    return next(args);
  }
  if (run.kind === 'lost') await next(args);
  throw new InjectedFailure(call, run.kind);
};

/** Inside the retry layer: each attempt of a busy call reaches here, and the first `times` are refused. */
const busyMiddleware = (next: Next, context: Context) => async (args: unknown) => {
  const busy = context[BUSY];
  if (!busy) return next(args);
  busy.call.attempts = (busy.call.attempts ?? 0) + 1;
  if (busy.left <= 0) return next(args);
  busy.left--;
  throw busyError(busy.kind, context.commandName ?? '', (args as { input?: { TransactItems?: unknown[] } }).input);
};

function busyError(kind: 'conflict' | 'throttled', commandName: string, input: { TransactItems?: unknown[] } | undefined): Error {
  const $metadata = { httpStatusCode: 400, attempts: 1 };
  if (commandName === 'TransactWriteItemsCommand') {
    const code = kind === 'conflict' ? 'TransactionConflict' : 'ThrottlingError';
    const reasons = (input?.TransactItems ?? [undefined]).map((_, i) => ({ Code: i === 0 ? code : 'None' }));
    return new TransactionCanceledException({ $metadata, message: `Transaction cancelled (injected) [${reasons.map((r) => r.Code).join(', ')}]`, CancellationReasons: reasons });
  }
  if (kind === 'throttled') return new ThrottlingException({ $metadata, message: 'Throughput exceeds the current capacity (injected)' });
  if (/^(PutItem|UpdateItem|DeleteItem)Command$/.test(commandName)) {
    return new TransactionConflictException({ $metadata, message: 'Transaction is ongoing for the item (injected)' });
  }
  return new ProvisionedThroughputExceededException({ $metadata, message: 'The level of configured provisioned throughput is exceeded (injected)' });
}

const NAME = 'portalAccessFailNth';
const installed = new WeakSet<object>();

type Stack = { add(mw: unknown, options: Record<string, unknown>): void };
type AnyClient = { middlewareStack: Stack; send(...args: unknown[]): unknown };

function patch(cls: { prototype: unknown }, service: Service): void {
  const proto = cls.prototype as AnyClient & { [NAME]?: true };
  if (Object.prototype.hasOwnProperty.call(proto, NAME)) return;
  const original = proto.send;
  proto.send = function (this: AnyClient, ...args: unknown[]) {
    if (!installed.has(this.middlewareStack)) {
      installed.add(this.middlewareStack);
      this.middlewareStack.add(middleware(service), { step: 'initialize', priority: 'high', name: NAME });
      if (service === 'DynamoDB') this.middlewareStack.add(busyMiddleware, { step: 'build', priority: 'high', name: `${NAME}Busy` });
    }
    return original.apply(this, args);
  };
  Object.defineProperty(proto, NAME, { value: true });
}

/** Call once per test file, before the handlers make their first call. */
export function installFailNth(): void {
  patch(DynamoDBClient, 'DynamoDB');
  patch(DynamoDBDocumentClient, 'DynamoDB');
  patch(CognitoIdentityProviderClient, 'Cognito');
  patch(SESClient, 'SES');
  patch(KMSClient, 'KMS');
  patch(PinpointSMSVoiceV2Client, 'SMS');
}

/**
 * Runs `work` counting its backend calls; with `failAt`, that call (or every DynamoDB call)
 * fails (`kind`, default `refused`; for `conflict` / `throttled`, the first `times` attempts of
 * it, default all). Not re-entrant: one recorded run at a time.
 */
export async function record<T>(
  work: () => Promise<T>,
  failAt?: number | 'every-dynamodb',
  kind: FailureKind = 'refused',
  times = Number.POSITIVE_INFINITY,
): Promise<{ result: T; calls: BackendCall[] }> {
  if (current) throw new Error('record() is already running');
  const run: Run = { calls: [], kind, times, ...(failAt !== undefined ? { failAt } : {}) };
  current = run;
  try {
    return { result: await work(), calls: run.calls };
  } finally {
    current = undefined;
  }
}

/** "DynamoDB TransactWriteItems" */
export const describeCall = (c: Pick<BackendCall, 'service' | 'command'>): string => `${c.service} ${c.command}`;
