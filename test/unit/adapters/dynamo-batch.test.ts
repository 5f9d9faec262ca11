/**
 * Issue 16: gets started together inside `readTogether` go out as one BatchGetItem
 * (lambdas/adapters/dynamo-batch.ts). What DynamoDB may answer is driven through a fake `send`:
 * items in any order, a table missing from Responses or an empty Responses map, UnprocessedKeys
 * (once, and for good), and a failed call.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { getItem, readTogether } from '../../../lambdas/adapters/dynamo-batch.ts';

type Item = Record<string, unknown>;
const key = (pk: string, sk = 'X') => ({ pk, sk });

/** A fake client: `answer` gets each command; every command is kept. */
function fakeDb(answer: (command: unknown) => unknown) {
  const sent: unknown[] = [];
  return {
    sent,
    send: (async (command: unknown) => {
      sent.push(command);
      return answer(command);
    }) as never,
  };
}

const stored: Record<string, Item> = {
  'A|X': { ...key('A'), v: 1 },
  'B|X': { ...key('B'), v: 2 },
  'C|X': { ...key('C'), v: 3 },
};
const lookup = (k: Item) => stored[`${String(k.pk)}|${String(k.sk)}`];

describe('readTogether', () => {
  it('sends two gets as one BatchGetItem and hands each caller its own item, whatever order DynamoDB answers in', async () => {
    const db = fakeDb((c) => {
      const keys = (c as BatchGetCommand).input.RequestItems!.t!.Keys!;
      return { Responses: { t: keys.map(lookup).filter(Boolean).reverse() }, UnprocessedKeys: {} };
    });
    const [a, b, missing] = await readTogether(() =>
      Promise.all([
        getItem(db, { TableName: 't', Key: key('A') }),
        getItem(db, { TableName: 't', Key: key('B'), ConsistentRead: true }),
        getItem(db, { TableName: 't', Key: key('Z') }),
      ]),
    );
    expect(a.Item).toEqual(stored['A|X']);
    expect(b.Item).toEqual(stored['B|X']);
    expect(missing.Item).toBeUndefined();
    expect(db.sent).toHaveLength(1);
    expect(db.sent[0]).toBeInstanceOf(BatchGetCommand);
    // Consistent for the table where any get asked for it.
    expect((db.sent[0] as BatchGetCommand).input.RequestItems!.t!.ConsistentRead).toBe(true);
  });

  it('sends one key once when two gets ask for it (BatchGetItem refuses duplicates), and both get the item', async () => {
    const db = fakeDb((c) => {
      const keys = (c as BatchGetCommand).input.RequestItems!.t!.Keys!;
      if (new Set(keys.map((k) => JSON.stringify(k))).size !== keys.length) throw new Error('ValidationException: duplicates');
      return { Responses: { t: keys.map(lookup).filter(Boolean) } };
    });
    const [a1, a2, b] = await readTogether(() =>
      Promise.all([getItem(db, { TableName: 't', Key: key('A') }), getItem(db, { TableName: 't', Key: { sk: 'X', pk: 'A' } }), getItem(db, { TableName: 't', Key: key('B') })]),
    );
    expect([a1.Item, a2.Item, b.Item]).toEqual([stored['A|X'], stored['A|X'], stored['B|X']]);
  });

  it('a single get stays a GetItem; a get with a projection is never merged', async () => {
    const db = fakeDb((c) => (c instanceof GetCommand ? { Item: lookup(c.input.Key!) } : { Responses: {} }));
    const [a] = await readTogether(() => Promise.all([getItem(db, { TableName: 't', Key: key('A') })]));
    expect(a.Item).toEqual(stored['A|X']);
    await readTogether(() => Promise.all([getItem(db, { TableName: 't', Key: key('A') }), getItem(db, { TableName: 't', Key: key('B'), ProjectionExpression: 'v' })]));
    expect(db.sent.map((c) => (c as object).constructor)).toEqual([GetCommand, GetCommand, GetCommand]);
  });

  it('an empty Responses map, a missing one, or a table left out of it: every get finds nothing (no 500)', async () => {
    for (const answer of [{ Responses: {} }, {}, { Responses: { other: [] } }]) {
      const db = fakeDb(() => answer);
      const got = await readTogether(() => Promise.all([getItem(db, { TableName: 't', Key: key('A') }), getItem(db, { TableName: 'u', Key: key('B') })]));
      expect(got).toEqual([{}, {}]);
    }
  });

  it('asks again for UnprocessedKeys and merges what each answer brought', async () => {
    let round = 0;
    const db = fakeDb((c) => {
      round++;
      const asked = (c as BatchGetCommand).input.RequestItems!;
      if (round === 1) {
        // A, then B and C left over in two tables' worth of form (as DynamoDB sends them: the request's own shape).
        return { Responses: { t: [stored['A|X']] }, UnprocessedKeys: { t: { Keys: [key('B')], ConsistentRead: true }, u: asked.u } };
      }
      return { Responses: { t: asked.t!.Keys!.map(lookup), u: [{ ...key('C', 'Y'), v: 'u' }] }, UnprocessedKeys: {} };
    });
    const [a, b, c] = await readTogether(() =>
      Promise.all([
        getItem(db, { TableName: 't', Key: key('A'), ConsistentRead: true }),
        getItem(db, { TableName: 't', Key: key('B'), ConsistentRead: true }),
        getItem(db, { TableName: 'u', Key: key('C', 'Y') }),
      ]),
    );
    expect([a.Item, b.Item, c.Item]).toEqual([stored['A|X'], stored['B|X'], { ...key('C', 'Y'), v: 'u' }]);
    expect(db.sent).toHaveLength(2);
    expect((db.sent[1] as BatchGetCommand).input.RequestItems).toEqual({ t: { Keys: [key('B')], ConsistentRead: true }, u: { Keys: [key('C', 'Y')] } });
  });

  it('rule 35: keys that stay unprocessed fail every get as a busy table (ProvisionedThroughputExceededException), after a bounded number of asks', async () => {
    const db = fakeDb((c) => ({ Responses: {}, UnprocessedKeys: (c as BatchGetCommand).input.RequestItems }));
    const both = readTogether(() => Promise.all([getItem(db, { TableName: 't', Key: key('A') }), getItem(db, { TableName: 't', Key: key('B') })]));
    await expect(both).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(db.sent.length).toBeGreaterThan(1);
    expect(db.sent.length).toBeLessThanOrEqual(5);
  });

  it('a failed BatchGetItem fails every get it carried, with its own error', async () => {
    const boom = Object.assign(new Error('ResourceNotFoundException'), { name: 'ResourceNotFoundException' });
    const db = fakeDb(() => {
      throw boom;
    });
    const a = getItemPair(db);
    await expect(a[0]).rejects.toBe(boom);
    await expect(a[1]).rejects.toBe(boom);
  });
});

function getItemPair(db: ReturnType<typeof fakeDb>) {
  let pair: Promise<unknown>[] = [];
  void readTogether(() => {
    pair = [getItem(db, { TableName: 't', Key: key('A') }), getItem(db, { TableName: 't', Key: key('B') })];
    return Promise.allSettled(pair);
  });
  return pair;
}
