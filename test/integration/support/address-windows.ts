/** The per-address failure windows (rule 6) of the local table, cleared between test files and flows. */
import { BatchWriteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { dynamodb, stack } from './stack.ts';

/** Deletes every per-address failure window (THROTTLE#address#…) of the local table. */
export async function clearAddressWindows(): Promise<void> {
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
}
