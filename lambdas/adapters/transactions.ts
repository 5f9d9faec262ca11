/**
 * One DynamoDB transaction whose items have names. When it is cancelled because conditions
 * failed, the caller learns *which named items* failed, never their positions: an item added to a
 * transaction later cannot silently remap the errors of the others (which `CancellationReasons[4]`
 * did).
 *
 * A cancellation for any other reason (TransactionConflict, throttling) is rethrown unchanged, so
 * the retry middleware (dynamo-retry.ts) still sees and retries it.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Items by name, in the order they are sent. Leave an item out with `...(cond ? { name: item } : {})`. */
export type NamedItems = Record<string, TransactItem>;

/** The transaction was cancelled because the conditions of these named items failed. */
export class ConditionsFailed extends Error {
  override readonly name = 'ConditionsFailed';
  constructor(readonly failed: ReadonlySet<string>) {
    super(`transaction conditions failed: ${[...failed].join(', ')}`);
  }
}

/** Whether `err` says that the condition of the item called `name` failed. */
export const conditionFailed = (err: unknown, name: string): boolean => err instanceof ConditionsFailed && err.failed.has(name);

/** The names whose reason is ConditionalCheckFailed, or undefined when the cancellation is not (only) about conditions. */
export function failedNames(err: unknown, names: readonly string[]): Set<string> | undefined {
  if (!(err instanceof TransactionCanceledException)) return undefined;
  const reasons = err.CancellationReasons ?? [];
  const failed = new Set(names.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed'));
  return failed.size > 0 ? failed : undefined;
}

export async function transactWrite(
  db: Pick<DynamoDBDocumentClient, 'send'>,
  items: NamedItems,
  options: { clientRequestToken?: string } = {},
): Promise<void> {
  const names = Object.keys(items);
  if (names.length === 0) return;
  try {
    await db.send(
      new TransactWriteCommand({
        TransactItems: names.map((name) => items[name] as TransactItem),
        ...(options.clientRequestToken ? { ClientRequestToken: options.clientRequestToken } : {}),
      }),
    );
  } catch (err) {
    const failed = failedNames(err, names);
    if (failed) throw new ConditionsFailed(failed);
    throw err;
  }
}
