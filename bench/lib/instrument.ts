/**
 * Counts the AWS calls the handlers make, in the bench process only: the local server runs the
 * handlers in this process, so wrapping `send` on the SDK client classes here sees every real
 * DynamoDB, Cognito, SES and KMS call. Production code is untouched. Calls are grouped by the
 * request that was in flight (the bench sends one request at a time), so a flow's calls per
 * request, and any read repeated within one request, can be read off.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SESClient } from '@aws-sdk/client-ses';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type Service = 'dynamodb' | 'cognito' | 'ses' | 'kms';

export interface Call {
  service: Service;
  /** The operation, e.g. GetItem, TransactWriteItems, InitiateAuth. */
  op: string;
  /** For reads: what was read (table/pool and key); repeated keys in one request are waste. */
  readKey?: string;
  /** What the call touched, with ids left out: `PATIENT#…/RECORD`, `byEmail`, `audit`. */
  what: string;
  /** To replay the same call directly (the "raw backend" side). */
  replay: { ctor: new (input: unknown) => unknown; input: unknown; client: Service | 'dynamodb-doc' };
  /** When the call was sent (performance.now()) and how long it took, as it ran in the request. */
  start: number;
  ms: number;
  failed: boolean;
}

/**
 * The time a request spent waiting on its calls, as they ran: the union of their intervals
 * (calls sent together, e.g. a batch beside a Cognito call, count once).
 */
export function callTime(calls: readonly Pick<Call, 'start' | 'ms'>[]): number {
  const spans = calls.map((c) => [c.start, c.start + c.ms] as const).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of spans) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/** Calls of the request in flight; undefined when nothing is being recorded. */
let current: Call[] | undefined;
/** Clients the bench itself made (replays, setup): never counted. */
const own = new WeakSet<object>();

export const ownClient = <T extends object>(client: T): T => {
  own.add(client);
  return client;
};

/** Starts a new request's group; returns the array its calls go into. */
export function beginRequest(): Call[] {
  current = [];
  return current;
}

export function stopRecording(): void {
  current = undefined;
}

// Operation names as AWS names them (the lib-dynamodb commands are the Item operations).
const docOps: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  TransactWriteCommand: 'TransactWriteItems',
  TransactGetCommand: 'TransactGetItems',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
};

function readKeyOf(op: string, input: Record<string, unknown>): string | undefined {
  if (op === 'GetItem') return `${String(input.TableName)} ${JSON.stringify(input.Key)}`;
  if (op === 'Query') return `${String(input.TableName)}/${String(input.IndexName ?? '')} ${String(input.KeyConditionExpression)} ${JSON.stringify(input.ExpressionAttributeValues)}`;
  if (op === 'AdminGetUser') return `${String(input.UserPoolId)} ${String(input.Username)}`;
  return undefined;
}

/** An item key as a pattern: the kind of item, never whose (`PATIENT#…/RECORD`). */
const keyPattern = (table: unknown, key: unknown): string => {
  const k = (key ?? {}) as Record<string, unknown>;
  const part = (v: unknown) => (typeof v === 'string' ? v.replace(/#.*$/, '#…') : '…');
  const name = String(table ?? '');
  return /audit/i.test(name) ? 'audit' : [k.pk, k.sk].filter((v) => v !== undefined).map(part).join('/');
};

function whatOf(op: string, input: Record<string, unknown>): string {
  const item = (x: Record<string, unknown> | undefined) => keyPattern(x?.TableName, x?.Key ?? x?.Item);
  if (op === 'Query') return `${String(input.IndexName ?? 'table')}`;
  if (op === 'TransactWriteItems') {
    const items = (input.TransactItems ?? []) as Record<string, Record<string, unknown>>[];
    return items.map((t) => `${Object.keys(t)[0]} ${item(Object.values(t)[0])}`).join(', ');
  }
  if (['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].includes(op)) return item(input);
  return '';
}

const cloneInput = (input: unknown): unknown => {
  try {
    return structuredClone(input);
  } catch {
    return input;
  }
};

type Sendable = { send: (command: unknown, ...rest: unknown[]) => Promise<unknown> };

function wrap(proto: Sendable, service: Service, client: Call['replay']['client']): void {
  const original = proto.send;
  proto.send = async function (this: object, command: unknown, ...rest: unknown[]) {
    const calls = current;
    if (!calls || own.has(this)) return original.call(this, command, ...rest);
    const ctor = (command as object).constructor as Call['replay']['ctor'];
    const name = ctor.name;
    const op = docOps[name] ?? name.replace(/Command$/, '');
    const input = (command as { input: Record<string, unknown> }).input;
    const call: Call = { service, op, readKey: readKeyOf(op, input), what: service === 'dynamodb' ? whatOf(op, input) : '', replay: { ctor, input: cloneInput(input), client }, start: performance.now(), ms: 0, failed: false };
    calls.push(call);
    const t = call.start;
    try {
      return await original.call(this, command, ...rest);
    } catch (err) {
      call.failed = true;
      throw err;
    } finally {
      call.ms = performance.now() - t;
    }
  };
}

let installed = false;

/**
 * Installs the counters. `send` lives on the SDK's base Client class; an own property on each
 * client class's prototype shadows it for that client only, so nothing is counted twice.
 */
export function instrumentSdk(): void {
  if (installed) return;
  installed = true;
  wrap(DynamoDBDocumentClient.prototype as unknown as Sendable, 'dynamodb', 'dynamodb-doc');
  wrap(DynamoDBClient.prototype as unknown as Sendable, 'dynamodb', 'dynamodb');
  wrap(CognitoIdentityProviderClient.prototype as unknown as Sendable, 'cognito', 'cognito');
  wrap(SESClient.prototype as unknown as Sendable, 'ses', 'ses');
  wrap(KMSClient.prototype as unknown as Sendable, 'kms', 'kms');
}

export const isDynamoWrite = (call: Call) => call.service === 'dynamodb' && ['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem'].includes(call.op);
