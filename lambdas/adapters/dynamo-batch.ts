/**
 * One read for what one request needs (issue 16 item 3): the single-item gets that a domain
 * function asks for together go out as one BatchGetItem instead of one GetItem each.
 *
 * `readTogether(reads)` calls `reads` and collects every `getItem` the adapters start while it
 * runs synchronously (an adapter's get made after an await of its own is not collected: it
 * depends on an earlier answer and goes out alone, as before). When `reads` has returned its
 * promise, the collected gets go out: one alone as GetItem (the call sequence of a flow that
 * reads one item is unchanged), two or more as one BatchGetItem, consistent per table where any
 * of them asked for it. Outside `readTogether`, `getItem` is a plain GetItem.
 *
 * BatchGetItem may hand back UnprocessedKeys under load: they are asked again (with a short
 * growing pause) a bounded number of times, then the request fails like any busy table
 * (ProvisionedThroughputExceededException, rule 35). A failed call fails every get it carried.
 * A Lambda process handles one request at a time; the local server runs several handlers in one
 * process, but collection only spans one synchronous run, which no other request can enter.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, type DynamoDBDocumentClient, type GetCommandInput } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;
type Db = Pick<DynamoDBDocumentClient, 'send'>;

interface Pending {
  db: Db;
  input: GetCommandInput;
  resolve: (out: { Item?: Item }) => void;
  reject: (err: unknown) => void;
}

let collecting: Pending[] | undefined;

/** A GetItem, collected into the surrounding `readTogether` when there is one. */
export function getItem(db: Db, input: GetCommandInput): Promise<{ Item?: Item }> {
  // A projection is the item's business alone: such a get is never merged.
  if (!collecting || input.ProjectionExpression) return db.send(new GetCommand(input)) as Promise<{ Item?: Item }>;
  const queue = collecting;
  return new Promise((resolve, reject) => queue.push({ db, input, resolve, reject }));
}

/** Runs `reads`; the gets it starts synchronously go out as one call. Nested calls join the outer one. */
export function readTogether<T>(reads: () => Promise<T>): Promise<T> {
  if (collecting) return reads();
  const queue: Pending[] = [];
  collecting = queue;
  let result: Promise<T>;
  try {
    result = reads();
  } catch (err) {
    result = Promise.reject(err);
  } finally {
    collecting = undefined;
  }
  void flush(queue);
  return result;
}

const keyId = (table: string | undefined, key: Item | undefined) => `${table ?? ''}\u0000${JSON.stringify(Object.entries(key ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/** Pauses between asks for UnprocessedKeys, ms; after the last, the table counts as busy. */
const unprocessedPauses = [10, 40, 160];

async function flush(queue: Pending[]): Promise<void> {
  if (queue.length === 0) return;
  if (queue.length === 1) {
    const [only] = queue as [Pending];
    only.db.send(new GetCommand(only.input)).then((out) => only.resolve(out as { Item?: Item }), only.reject);
    return;
  }
  try {
    const db = queue[0]!.db;
    // One entry per distinct key (BatchGetItem refuses duplicates); consistent per table if any get asked.
    const request: Record<string, { Keys: Item[]; ConsistentRead?: boolean }> = {};
    const keyNames = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const p of queue) {
      const table = p.input.TableName!;
      const entry = (request[table] ??= { Keys: [] });
      if (p.input.ConsistentRead) entry.ConsistentRead = true;
      keyNames.set(table, Object.keys(p.input.Key ?? {}));
      const id = keyId(table, p.input.Key);
      if (seen.has(id)) continue;
      seen.add(id);
      entry.Keys.push(p.input.Key as Item);
    }
    const found = new Map<string, Item>();
    let ask: typeof request | undefined = request;
    for (let round = 0; ask && Object.keys(ask).length > 0; round++) {
      if (round > 0) {
        const pause = unprocessedPauses[round - 1];
        if (pause === undefined) {
          throw new ProvisionedThroughputExceededException({ message: 'BatchGetItem left keys unprocessed after every retry', $metadata: {} });
        }
        await new Promise((r) => setTimeout(r, pause));
      }
      const out = await db.send(new BatchGetCommand({ RequestItems: ask }));
      for (const [table, items] of Object.entries(out.Responses ?? {})) {
        const names = keyNames.get(table) ?? [];
        for (const item of items) found.set(keyId(table, Object.fromEntries(names.map((n) => [n, item[n]]))), item);
      }
      ask = out.UnprocessedKeys as typeof request | undefined;
    }
    for (const p of queue) {
      const item = found.get(keyId(p.input.TableName, p.input.Key));
      p.resolve(item ? { Item: item } : {});
    }
  } catch (err) {
    for (const p of queue) p.reject(err);
  }
}
