/**
 * Injected backend failures (security rule 24): counts every AWS SDK call the code under test
 * makes (DynamoDB, Cognito, SES, KMS) and makes exactly the Nth one fail.
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
 * Two kinds of failure:
 *   - `refused`: the service turns the call down (throttling, 503); nothing was done;
 *   - `lost`: the service did the work, but the answer never came back (a reset connection).
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SESClient } from '@aws-sdk/client-ses';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type Service = 'DynamoDB' | 'Cognito' | 'SES' | 'KMS';
export type FailureKind = 'refused' | 'lost';

export interface BackendCall {
  /** 1-based, in the order the calls were sent. */
  n: number;
  service: Service;
  /** The SDK command's name without "Command", e.g. TransactWriteItems. */
  command: string;
  /** True for the one call that was made to fail. */
  failed: boolean;
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
  DynamoDB: ['ThrottlingException', 400, 'client'],
  Cognito: ['TooManyRequestsException', 429, 'client'],
  SES: ['ServiceUnavailable', 503, 'server'],
  KMS: ['KMSInternalException', 500, 'server'],
};

interface Run {
  calls: BackendCall[];
  failAt?: number;
  kind: FailureKind;
}

let current: Run | undefined;

type Next = (args: unknown) => Promise<unknown>;
type Context = { commandName?: string };

const middleware = (service: Service) => (next: Next, context: Context) => async (args: unknown) => {
  const run = current;
  if (!run) return next(args);
  const call: BackendCall = { n: run.calls.length + 1, service, command: (context.commandName ?? 'Unknown').replace(/Command$/, ''), failed: false };
  run.calls.push(call);
  if (call.n !== run.failAt) return next(args);
  call.failed = true;
  if (run.kind === 'lost') await next(args);
  throw new InjectedFailure(call, run.kind);
};

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
}

/**
 * Runs `work` counting its backend calls; with `failAt`, that call fails (`kind`, default
 * `refused`). Not re-entrant: one recorded run at a time.
 */
export async function record<T>(work: () => Promise<T>, failAt?: number, kind: FailureKind = 'refused'): Promise<{ result: T; calls: BackendCall[] }> {
  if (current) throw new Error('record() is already running');
  const run: Run = { calls: [], kind, ...(failAt !== undefined ? { failAt } : {}) };
  current = run;
  try {
    return { result: await work(), calls: run.calls };
  } finally {
    current = undefined;
  }
}

/** "DynamoDB TransactWriteItems" */
export const describeCall = (c: Pick<BackendCall, 'service' | 'command'>): string => `${c.service} ${c.command}`;
