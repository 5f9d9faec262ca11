/**
 * An in-memory DynamoDB (document client) that evaluates the expressions our adapters write:
 * conditions (`=`, `<>`, `<`, `>`, `<=`, `>=`, AND, OR, NOT, parentheses, attribute_exists,
 * attribute_not_exists, begins_with), updates (SET with `+`, `-` and if_not_exists, ADD, REMOVE),
 * Query by key condition over any attributes (indexes are the items carrying the attribute), and
 * all-or-nothing transactions that cancel with per-item reasons. Tables are kept apart by name.
 * It refuses what DynamoDB and the document client refuse: key and index key attributes that are
 * not non-empty strings, keys too long, items over 400 KB, NaN, Dates and class instances, empty
 * sets, empty key-condition values, and two operations on one item in a transaction.
 * For the fuzz test, where a request must meet the same conditional failures as in DynamoDB
 * without an emulator; not a full DynamoDB (no Scan, no sets, no paging).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { tables as tableDefinitions } from '../../lib/data/tables.ts';

export type Item = Record<string, any>;
export type Tables = Map<string, Map<string, Item>>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;

const keyOf = (k: Item) => `${String(k.pk)}|${String(k.sk)}`;

// ---------------------------------------------------------------------------- tokens and paths

const tokenPattern = /\s*(<>|<=|>=|[=<>(),.+-]|[#:]?[A-Za-z_][A-Za-z0-9_]*)/y;

const tokenCache = new Map<string, string[]>();

/** The tokens of an expression (cached: the adapters send the same few expressions again and again). */
function tokenize(text: string): string[] {
  const cached = tokenCache.get(text);
  if (cached) return cached;
  const out: string[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(tokenPattern.lastIndex))) break;
    const m = tokenPattern.exec(text);
    if (!m) throw new Error(`memory-dynamo: cannot read expression ${JSON.stringify(text)}`);
    out.push(m[1]!);
  }
  tokenCache.set(text, out);
  return out;
}

class Reader {
  private i = 0;
  constructor(
    private readonly tokens: string[],
    private readonly names: Names,
    private readonly values: Values,
  ) {}
  peek = () => this.tokens[this.i];
  next = () => this.tokens[this.i++];
  done = () => this.i >= this.tokens.length;
  eat(t: string): boolean {
    if (this.tokens[this.i]?.toUpperCase() !== t.toUpperCase()) return false;
    this.i++;
    return true;
  }
  expect(t: string): void {
    if (!this.eat(t)) throw new Error(`memory-dynamo: expected ${t} at ${this.tokens.slice(this.i).join(' ')}`);
  }
  name(t: string): string {
    if (!t.startsWith('#')) return t;
    const n = this.names?.[t];
    if (n === undefined) throw new Error(`memory-dynamo: no name for ${t}`);
    return n;
  }
  /** a path: name(.name)* */
  path(): string[] {
    const parts = [this.name(this.next()!)];
    while (this.eat('.')) parts.push(this.name(this.next()!));
    return parts;
  }
  /** :value or a path, as a function of the item. */
  operand(): (item: Item | undefined) => unknown {
    const t = this.peek()!;
    if (t.startsWith(':')) {
      this.next();
      if (!this.values || !(t in this.values)) throw new Error(`memory-dynamo: no value for ${t}`);
      const v = this.values[t];
      return () => v;
    }
    const p = this.path();
    return (item) => get(item, p);
  }
}

function get(item: Item | undefined, path: string[]): unknown {
  let at: unknown = item;
  for (const p of path) at = at !== null && typeof at === 'object' ? (at as Item)[p] : undefined;
  return at;
}

function set(item: Item, path: string[], value: unknown): void {
  let at = item;
  for (const p of path.slice(0, -1)) {
    if (typeof at[p] !== 'object' || at[p] === null) at[p] = {};
    at = at[p];
  }
  at[path[path.length - 1]!] = value;
}

function remove(item: Item, path: string[]): void {
  const parent = get(item, path.slice(0, -1)) as Item | undefined;
  if (parent && typeof parent === 'object') delete parent[path[path.length - 1]!];
}

// ---------------------------------------------------------------------------- conditions

type Cond = (item: Item | undefined) => boolean;

const compare = (op: string, a: unknown, b: unknown): boolean => {
  if (op === '=') return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
  if (op === '<>') return JSON.stringify(a) !== JSON.stringify(b);
  // Ordered comparisons hold only between two numbers or two strings, as in DynamoDB.
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return false;
  if (op === '<') return a < b;
  if (op === '>') return a > b;
  if (op === '<=') return a <= b;
  return a >= b;
};

function parseOr(r: Reader): Cond {
  let left = parseAnd(r);
  while (r.eat('OR')) {
    const a = left;
    const b = parseAnd(r);
    left = (i) => a(i) || b(i);
  }
  return left;
}

function parseAnd(r: Reader): Cond {
  let left = parseNot(r);
  while (r.eat('AND')) {
    const a = left;
    const b = parseNot(r);
    left = (i) => a(i) && b(i);
  }
  return left;
}

function parseNot(r: Reader): Cond {
  if (r.eat('NOT')) {
    const inner = parseNot(r);
    return (i) => !inner(i);
  }
  if (r.eat('(')) {
    const inner = parseOr(r);
    r.expect(')');
    return inner;
  }
  const fn = r.peek()!;
  if (/^(attribute_exists|attribute_not_exists|begins_with)$/.test(fn)) {
    r.next();
    r.expect('(');
    const p = r.path();
    if (fn === 'begins_with') {
      r.expect(',');
      const prefix = r.operand();
      r.expect(')');
      return (i) => {
        const v = get(i, p);
        const s = prefix(i);
        return typeof v === 'string' && typeof s === 'string' && v.startsWith(s);
      };
    }
    r.expect(')');
    return fn === 'attribute_exists' ? (i) => get(i, p) !== undefined : (i) => get(i, p) === undefined;
  }
  const a = r.operand();
  const op = r.next()!;
  if (!['=', '<>', '<', '>', '<=', '>='].includes(op)) throw new Error(`memory-dynamo: unknown operator ${op}`);
  const b = r.operand();
  return (i) => compare(op, a(i), b(i));
}

export function condition(text: string | undefined, names: Names, values: Values): Cond {
  if (!text) return () => true;
  const r = new Reader(tokenize(text), names, values);
  const cond = parseOr(r);
  if (!r.done()) throw new Error(`memory-dynamo: trailing tokens in ${text}`);
  return cond;
}

// ---------------------------------------------------------------------------- updates

export function applyUpdate(item: Item, text: string, names: Names, values: Values): void {
  const r = new Reader(tokenize(text), names, values);
  const before = structuredClone(item);
  while (!r.done()) {
    const clause = r.next()!.toUpperCase();
    do {
      if (clause === 'SET') {
        const target = r.path();
        r.expect('=');
        const value = setValue(r);
        set(item, target, value(before));
      } else if (clause === 'ADD') {
        const target = r.path();
        const by = r.operand()(before);
        const current = get(item, target);
        if (typeof by !== 'number' || (current !== undefined && typeof current !== 'number')) throw validation('ADD needs numbers');
        set(item, target, ((current as number | undefined) ?? 0) + by);
      } else if (clause === 'REMOVE') {
        remove(item, r.path());
      } else {
        throw new Error(`memory-dynamo: unsupported update clause ${clause}`);
      }
    } while (r.eat(','));
  }
}

function setValue(r: Reader): (item: Item) => unknown {
  const term = (): ((item: Item) => unknown) => {
    if (r.eat('if_not_exists')) {
      r.expect('(');
      const p = r.path();
      r.expect(',');
      const fallback = r.operand();
      r.expect(')');
      return (i) => get(i, p) ?? fallback(i);
    }
    return r.operand() as (item: Item) => unknown;
  };
  const left = term();
  const op = r.peek();
  if (op === '+' || op === '-') {
    r.next();
    const right = term();
    return (i) => {
      const a = left(i);
      const b = right(i);
      if (typeof a !== 'number' || typeof b !== 'number') throw validation('arithmetic needs numbers');
      return op === '+' ? a + b : a - b;
    };
  }
  return left;
}

const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

// ---------------------------------------------------------------------------- what DynamoDB refuses

/**
 * Key attributes of the tables and their indexes (lib/data/tables.ts): DynamoDB refuses an item
 * whose key or index key attribute is not a non-empty string (ValidationException).
 */
const keyAttributes = new Set(tableDefinitions.flatMap((t) => [t.partitionKey, t.sortKey, ...t.indexes.flatMap((i) => [i.partitionKey, ...('sortKey' in i && i.sortKey ? [i.sortKey] : [])])]));
const MAX_ITEM_BYTES = 400 * 1024;

/** What the document client's marshaller and DynamoDB both refuse in a value. */
function checkValue(value: unknown, path: string): void {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Special numeric value ${value} is not allowed (at ${path})`);
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => checkValue(v, `${path}[${i}]`));
  if (value instanceof Uint8Array) return;
  if (value instanceof Set) {
    if (value.size === 0) throw validation(`an empty set is not allowed (at ${path})`);
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkValue(v, `${path}.${k}`);
    return;
  }
  // convertClassInstanceToMap is off (lambdas/adapters/clients.ts): a Date or class instance fails.
  throw new Error(`Unsupported type passed: ${String(value)} (at ${path})`);
}

function checkItem(item: Item): void {
  checkValue(item, 'item');
  for (const k of keyAttributes) {
    if (!(k in item) || item[k] === undefined) continue;
    if (typeof item[k] !== 'string' || item[k] === '') throw validation(`key attribute ${k} must be a non-empty string`);
  }
  if (typeof item.pk !== 'string' || Buffer.byteLength(item.pk) > 2048) throw validation('partition key missing or over 2048 bytes');
  if (typeof item.sk !== 'string' || Buffer.byteLength(item.sk) > 1024) throw validation('sort key missing or over 1024 bytes');
  if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
}

function checkKey(key: Item): void {
  checkItem(key);
  if (Object.keys(key).some((k) => k !== 'pk' && k !== 'sk')) throw validation('The provided key element does not match the schema');
}

// ---------------------------------------------------------------------------- the client

export interface MemoryDynamo {
  tables: Tables;
  /** Answers one document-client command (Get, Put, Delete, Update, Query, TransactWrite). */
  send(command: { input: any }): Promise<any>;
  table(name: string): Map<string, Item>;
  /**
   * A copy of every table. Items are shared, not copied: the fake never changes a stored item
   * in place, so an item that is the same object in two snapshots is unchanged between them.
   */
  snapshot(): Tables;
  /** Replaces every table with a copy of `from` (sharing its items, as snapshot does). */
  restore(from: Tables): void;
}

/**
 * The fake, with `send` to install in place of the document client's (cheaper per call than
 * aws-sdk-client-mock, which matters at 100,000 requests): see test/handlers/fuzz.test.ts.
 */
export function memoryDynamo(): MemoryDynamo {
  const tables: Tables = new Map();
  const table = (name: string) => {
    let t = tables.get(name);
    if (!t) tables.set(name, (t = new Map()));
    return t;
  };
  const checkFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

  const on = new Map<Function, (input: any) => unknown>();
  on.set(GetCommand, (input) => {
    checkKey(input.Key);
    const item = table(input.TableName).get(keyOf(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  });
  // As DynamoDB answers it: at most 100 keys, no key twice, every asked table in Responses (items
  // in no particular order), UnprocessedKeys empty (this table is never busy).
  on.set(BatchGetCommand, (input: { RequestItems: Record<string, { Keys: Item[] }> }) => {
    const asked = Object.entries(input.RequestItems ?? {});
    const total = asked.reduce((n, [, r]) => n + r.Keys.length, 0);
    if (total === 0 || total > 100) throw new Error(`memory-dynamo: BatchGetItem takes 1 to 100 keys, got ${total}`);
    const Responses: Record<string, Item[]> = {};
    for (const [name, r] of asked) {
      const seen = new Set<string>();
      Responses[name] = [];
      for (const key of r.Keys) {
        checkKey(key);
        if (seen.has(keyOf(key))) throw new Error('memory-dynamo: Provided list of item keys contains duplicates');
        seen.add(keyOf(key));
        const item = table(name).get(keyOf(key));
        if (item) Responses[name].push(structuredClone(item));
      }
      Responses[name].reverse();
    }
    return { Responses, UnprocessedKeys: {} };
  });
  on.set(PutCommand, (input) => {
    checkItem(input.Item);
    checkValue(input.ExpressionAttributeValues, 'values');
    const t = table(input.TableName);
    const key = keyOf(input.Item);
    if (!condition(input.ConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues)(t.get(key))) throw checkFailed();
    t.set(key, structuredClone(input.Item));
    return {};
  });
  on.set(DeleteCommand, (input) => {
    checkKey(input.Key);
    const t = table(input.TableName);
    const key = keyOf(input.Key);
    if (!condition(input.ConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues)(t.get(key))) throw checkFailed();
    t.delete(key);
    return {};
  });
  on.set(UpdateCommand, (input) => {
    checkKey(input.Key);
    checkValue(input.ExpressionAttributeValues, 'values');
    const t = table(input.TableName);
    const key = keyOf(input.Key);
    const current = t.get(key);
    const { ExpressionAttributeNames: names, ExpressionAttributeValues: values } = input;
    if (!condition(input.ConditionExpression, names, values)(current)) throw checkFailed();
    const next = structuredClone(current ?? { ...input.Key });
    applyUpdate(next, input.UpdateExpression, names, values);
    checkItem(next);
    t.set(key, next);
    return input.ReturnValues && input.ReturnValues !== 'NONE' ? { Attributes: structuredClone(next) } : {};
  });
  on.set(QueryCommand, (input) => {
    checkValue(input.ExpressionAttributeValues, 'values');
    if (Object.values(input.ExpressionAttributeValues ?? {}).some((v) => v === '')) throw validation('a key condition value cannot be empty');
    if (input.ExclusiveStartKey) checkItem(input.ExclusiveStartKey);
    const match = condition(input.KeyConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    const filter = condition(input.FilterExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    let items = [...table(input.TableName).values()].filter((i) => match(i) && filter(i));
    items.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    if (input.ScanIndexForward === false) items = items.reverse();
    if (input.Limit) items = items.slice(0, input.Limit);
    return { Items: structuredClone(items), Count: items.length };
  });
  on.set(TransactWriteCommand, (input: TransactWriteCommandInput) => {
    const steps = input.TransactItems ?? [];
    if (steps.length === 0 || steps.length > 100) throw validation('a transaction holds 1 to 100 items');
    const touched = new Set<string>();
    for (const step of steps) {
      const op = (step.Put ?? step.Delete ?? step.Update ?? step.ConditionCheck)!;
      const item = step.Put ? step.Put.Item! : (op as { Key: Item }).Key;
      if (step.Put) checkItem(item);
      else checkKey(item);
      checkValue(op.ExpressionAttributeValues, 'values');
      const key = `${op.TableName}|${keyOf(item)}`;
      if (touched.has(key)) throw validation('Transaction request cannot include multiple operations on one item');
      touched.add(key);
    }
    // Check every condition on the state before the transaction, then apply all or nothing.
    const reasons = steps.map((s) => {
      const op = (s.Put ?? s.Delete ?? s.Update ?? s.ConditionCheck)!;
      const key = keyOf(s.Put ? s.Put.Item! : (op as { Key: Item }).Key);
      const ok = condition(op.ConditionExpression, op.ExpressionAttributeNames, op.ExpressionAttributeValues)(table(op.TableName!).get(key));
      return { Code: ok ? 'None' : 'ConditionalCheckFailed' };
    });
    if (reasons.some((r) => r.Code !== 'None')) {
      throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: reasons });
    }
    // Stored items are never changed in place (every write stores a fresh copy), so a staged
    // table can share them with the live one.
    const staged = new Map<string, Map<string, Item>>();
    const stage = (name: string) => {
      let t = staged.get(name);
      if (!t) staged.set(name, (t = new Map(table(name))));
      return t;
    };
    for (const s of steps) {
      if (s.Put) stage(s.Put.TableName!).set(keyOf(s.Put.Item!), structuredClone(s.Put.Item!));
      if (s.Delete) stage(s.Delete.TableName!).delete(keyOf(s.Delete.Key!));
      if (s.Update) {
        const t = stage(s.Update.TableName!);
        const key = keyOf(s.Update.Key!);
        const next = structuredClone(t.get(key) ?? { ...s.Update.Key });
        applyUpdate(next, s.Update.UpdateExpression!, s.Update.ExpressionAttributeNames, s.Update.ExpressionAttributeValues);
        checkItem(next);
        t.set(key, next);
      }
    }
    for (const [name, t] of staged) tables.set(name, t);
    return {};
  });

  return {
    tables,
    table,
    async send(command) {
      const answer = on.get(command.constructor);
      if (!answer) throw new Error(`memory-dynamo: unsupported command ${command.constructor.name}`);
      return answer(command.input);
    },
    snapshot: () => new Map([...tables].map(([name, t]) => [name, new Map(t)])),
    restore(from) {
      tables.clear();
      for (const [name, t] of from) tables.set(name, new Map(t));
    },
  };
}
