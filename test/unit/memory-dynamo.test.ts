/**
 * The fuzz test's in-memory DynamoDB (test/support/memory-dynamo.ts) must fail where DynamoDB
 * fails, or the fuzz would miss (or invent) the answers that depend on it.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { memoryDynamo } from '../support/memory-dynamo.ts';

const T = 'records';
const key = { pk: 'INVITE#P-1', sk: 'INVITE' };

describe('memory-dynamo', () => {
  it('evaluates the adapters\' conditions and updates (ADD, SET if_not_exists, REMOVE, nested names)', async () => {
    const db = memoryDynamo();
    await db.send(new PutCommand({ TableName: T, Item: { ...key, status: 'Pending', pinFailures: 0, version: 1 }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await expect(db.send(new PutCommand({ TableName: T, Item: { ...key }, ConditionExpression: 'attribute_not_exists(pk)' }))).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const bumped = await db.send(
      new UpdateCommand({
        TableName: T,
        Key: key,
        UpdateExpression: 'SET #lease = :lease, accountId = if_not_exists(accountId, :account) ADD version :one, pinFailures :one',
        ConditionExpression: '#status = :pending AND pinFailures < :max AND (attribute_not_exists(#lease) OR #lease.#until < :now)',
        ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease', '#until': 'until' },
        ExpressionAttributeValues: { ':lease': { id: 'L1', until: '2026-01-01' }, ':account': 'acc-1', ':one': 1, ':pending': 'Pending', ':max': 5, ':now': '2026-06-01' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(bumped.Attributes).toMatchObject({ version: 2, pinFailures: 1, accountId: 'acc-1', lease: { id: 'L1' } });
    await db.send(new UpdateCommand({ TableName: T, Key: key, UpdateExpression: 'REMOVE #lease ADD version :one', ConditionExpression: '#lease.id = :id', ExpressionAttributeNames: { '#lease': 'lease' }, ExpressionAttributeValues: { ':one': 1, ':id': 'L1' } }));
    expect((await db.send(new GetCommand({ TableName: T, Key: key }))).Item).toEqual({ ...key, status: 'Pending', pinFailures: 1, version: 3, accountId: 'acc-1' });
  });

  it('applies a transaction all or nothing and says which item failed its condition', async () => {
    const db = memoryDynamo();
    await db.send(new PutCommand({ TableName: T, Item: { pk: 'PATIENT#P-1', sk: 'RECORD', version: 1 } }));
    const write = (expected: number) =>
      db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: T, Item: { pk: 'LINK#x', sk: 'LINK' }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: T, Item: { pk: 'PATIENT#P-1', sk: 'RECORD', version: expected + 1 }, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expected } } },
          ],
        }),
      );
    const err = await write(7).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect((err as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(db.table(T).has('LINK#x|LINK')).toBe(false);
    await write(1);
    expect(db.table(T).get('PATIENT#P-1|RECORD')).toMatchObject({ version: 2 });
    expect(db.table(T).has('LINK#x|LINK')).toBe(true);
  });

  it('refuses what DynamoDB refuses: empty index keys, NaN, Dates, two operations on one item, empty key-condition values', async () => {
    const db = memoryDynamo();
    const refused = (p: Promise<unknown>) => expect(p).rejects.toThrow();
    await refused(db.send(new PutCommand({ TableName: T, Item: { pk: 'PATIENT#P-1', sk: 'RECORD', emailKey: '' } })));
    await refused(db.send(new PutCommand({ TableName: T, Item: { pk: 'P', sk: 'S', n: Number.NaN } })));
    await refused(db.send(new PutCommand({ TableName: T, Item: { pk: 'P', sk: 'S', at: new Date() } })));
    await refused(
      db.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: T, Item: { pk: 'P', sk: 'S' } } }, { Delete: { TableName: T, Key: { pk: 'P', sk: 'S' } } }] })),
    );
    await refused(db.send(new QueryCommand({ TableName: T, IndexName: 'byEmail', KeyConditionExpression: 'emailKey = :e', ExpressionAttributeValues: { ':e': '' } })));
    expect(db.table(T).size).toBe(0);
  });
  it('answers BatchGetItem as DynamoDB does: every asked table in Responses, missing items left out, duplicates and more than 100 keys refused', async () => {
    const db = memoryDynamo();
    await db.send(new PutCommand({ TableName: T, Item: { ...key, v: 1 } }));
    const out = (await db.send(new BatchGetCommand({ RequestItems: { [T]: { Keys: [key, { pk: 'NONE', sk: 'X' }] }, other: { Keys: [key] } } }))) as {
      Responses: Record<string, unknown[]>;
      UnprocessedKeys: Record<string, unknown>;
    };
    expect(out.Responses).toEqual({ [T]: [{ ...key, v: 1 }], other: [] });
    expect(out.UnprocessedKeys).toEqual({});
    await expect(db.send(new BatchGetCommand({ RequestItems: { [T]: { Keys: [key, { ...key }] } } }))).rejects.toThrow(/duplicates/);
    const many = Array.from({ length: 101 }, (_, i) => ({ pk: `K${i}`, sk: 'X' }));
    await expect(db.send(new BatchGetCommand({ RequestItems: { [T]: { Keys: many } } }))).rejects.toThrow(/1 to 100/);
  });
});
