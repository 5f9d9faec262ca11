/**
 * Issue 16: one read for what one request needs. `readTogether` sends the reads a domain function
 * starts at once through the store's `together` (the DynamoDB store's batch: one BatchGetItem),
 * and simply runs them where the store has none (or there is no store): same answers either way.
 */
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { getItem, readTogether as batch } from '../../../lambdas/adapters/dynamo-batch.ts';
import { readTogether } from '../../../lambdas/domain/ports.ts';

const items: Record<string, Record<string, unknown>> = { A: { pk: 'A', sk: 'X', v: 1 }, B: { pk: 'B', sk: 'X', v: 2 } };

/** A DynamoDB client that answers Get and BatchGet from `items` and keeps every command it was sent. */
function fakeDb() {
  const sent: unknown[] = [];
  const send = (async (command: unknown) => {
    sent.push(command);
    if (command instanceof GetCommand) return { Item: items[String(command.input.Key!.pk)] };
    if (command instanceof BatchGetCommand) {
      const [table, request] = Object.entries(command.input.RequestItems!)[0]!;
      return { Responses: { [table]: request.Keys!.map((k: Record<string, unknown>) => items[String(k.pk)]) } };
    }
    throw new Error('unexpected command');
  }) as never;
  return { db: { send }, sent };
}

const both = (db: ReturnType<typeof fakeDb>['db']) => () =>
  Promise.all([getItem(db, { TableName: 't', Key: { pk: 'A', sk: 'X' } }), getItem(db, { TableName: 't', Key: { pk: 'B', sk: 'X' } })]);

describe('readTogether (issue 16)', () => {
  it('through a store that batches: the two reads go to the table as one call', async () => {
    const { db, sent } = fakeDb();
    const store = { together: batch };
    const [a, b] = await readTogether(store, both(db));
    expect([a.Item?.v, b.Item?.v]).toEqual([1, 2]);
    expect(sent.map((c) => c?.constructor.name)).toEqual(['BatchGetCommand']);
  });

  it('a store without `together` (or none at all): the reads simply run, one call each, same answers', async () => {
    for (const store of [{}, undefined]) {
      const { db, sent } = fakeDb();
      const [a, b] = await readTogether(store, both(db));
      expect([a.Item?.v, b.Item?.v]).toEqual([1, 2]);
      expect(sent.map((c) => c?.constructor.name)).toEqual(['GetCommand', 'GetCommand']);
    }
  });
});
