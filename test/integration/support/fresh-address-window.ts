/**
 * Setup file of the integration suite: each test file starts with no per-address failure counts.
 * The suite sends hundreds of deliberate failures (wrong PINs, passwords, dead links) from
 * 127.0.0.1, and the rule-6 limit (100 per address and window) would otherwise let one file's
 * failures turn another file's requests into 429s, depending on the order files run in. Tests of
 * the limit itself send their failures within one file (rules.test.ts, sign-in tests).
 */
import { BatchWriteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { beforeAll } from 'vitest';
import { dynamodb, stack } from './stack.ts';

beforeAll(async () => {
  const db = dynamodb();
  const table = stack().tableName;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(pk, :address)',
        ExpressionAttributeValues: { ':address': { S: 'THROTTLE#address#' } },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: start,
      }),
    );
    const keys = page.Items ?? [];
    for (let i = 0; i < keys.length; i += 25) {
      await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }));
    }
    start = page.LastEvaluatedKey;
  } while (start);
});
