import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { conditionFailed, ConditionsFailed, transactWrite } from '../../lambdas/adapters/transactions.ts';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(db);
const put = (pk: string) => ({ Put: { TableName: 't', Item: { pk } } });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

describe('transactWrite: cancellation reasons by item name', () => {
  beforeEach(() => mock.reset());

  it('sends the items in the order they are named', async () => {
    mock.on(TransactWriteCommand).resolves({});
    await transactWrite(db, { record: put('r'), link: put('l'), audit: put('a') });
    const sent = mock.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(sent.map((i) => i.Put!.Item!.pk)).toEqual(['r', 'l', 'a']);
  });

  it('names the item whose condition failed, whatever its position', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed'));
    const err = await transactWrite(db, { record: put('r'), ...{ link: put('l') }, audit: put('a') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionsFailed);
    expect(conditionFailed(err, 'audit')).toBe(true);
    expect(conditionFailed(err, 'record')).toBe(false);
    expect(conditionFailed(err, 'link')).toBe(false);
  });

  it('a left-out item does not shift the names of the others', async () => {
    const maybe = false;
    mock.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    const err = await transactWrite(db, { record: put('r'), ...(maybe ? { link: put('l') } : {}), audit: put('a') }).catch((e: unknown) => e);
    expect(conditionFailed(err, 'audit')).toBe(true);
    expect(conditionFailed(err, 'link')).toBe(false);
  });

  it('rethrows a cancellation that is not about conditions (a conflict the retry layer handles)', async () => {
    const conflict = cancelled('TransactionConflict', 'None');
    mock.on(TransactWriteCommand).rejects(conflict);
    await expect(transactWrite(db, { record: put('r'), audit: put('a') })).rejects.toBe(conflict);
  });

  it('passes an idempotency token through', async () => {
    mock.on(TransactWriteCommand).resolves({});
    await transactWrite(db, { record: put('r') }, { clientRequestToken: 'tok-1' });
    expect(mock.commandCalls(TransactWriteCommand)[0]!.args[0].input.ClientRequestToken).toBe('tok-1');
  });
});
