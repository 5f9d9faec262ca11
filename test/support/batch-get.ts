/**
 * For handler tests that answer DynamoDB gets with `db.on(GetCommand).callsFake(…)`: gets that a
 * domain function starts together now go out as one BatchGetItem (lambdas/adapters/dynamo-batch.ts,
 * issue 16). This answers a BatchGetCommand with whatever the test's GetCommand answers, key by
 * key, through the same mock: each key is recorded as a GetCommand call (with the table's
 * ConsistentRead), so assertions about what was read, and how, keep their meaning.
 *
 * As DynamoDB does, every asked table appears in Responses, items come back carrying their key
 * attributes (a fake get may leave them out) and in no set order (reversed here, so the adapter
 * must match by key), and UnprocessedKeys is empty.
 */
import { BatchGetCommand, GetCommand, type BatchGetCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;

export function batchGetThroughGets(db: AwsStub<any, any, any>): void {
  db.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => {
    const Responses: Record<string, Item[]> = {};
    for (const [TableName, asked] of Object.entries(input.RequestItems ?? {})) {
      const items: Item[] = [];
      for (const Key of asked.Keys ?? []) {
        const out = (await (db.send as (command: unknown) => Promise<unknown>)(new GetCommand({ TableName, Key, ConsistentRead: asked.ConsistentRead }))) as { Item?: Item } | undefined;
        if (out?.Item) items.push({ ...out.Item, ...Key });
      }
      Responses[TableName] = items.reverse();
    }
    return { Responses, UnprocessedKeys: {} };
  });
}
