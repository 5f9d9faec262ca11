/**
 * Just enough DynamoDB (document client) for handler tests: Get, Put, Delete, Update and
 * transactions of those over one in-memory map keyed by pk|sk. Conditions are not evaluated;
 * each test file says what its updates do with `applyUpdate`.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

export type Item = Record<string, any>;
export interface UpdateInput {
  Key?: unknown;
  UpdateExpression?: string;
  ExpressionAttributeValues?: Record<string, any>;
}

export const keyOf = (k: { pk: string; sk: string }) => `${k.pk}|${k.sk}`;

export function fakeDocumentTable(
  db: AwsStub<any, any, any>,
  options: {
    /** Changes the item as the update expression says (the key attributes are already there). */
    applyUpdate: (item: Item, input: UpdateInput) => void;
    /** Whether Update items inside a transaction are applied too. */
    updatesInTransactions?: boolean;
  },
): Map<string, Item> {
  const table = new Map<string, Item>();
  const update = (input: UpdateInput): Item => {
    const key = keyOf(input.Key as never);
    const item = table.get(key) ?? { ...(input.Key as Item) };
    options.applyUpdate(item, input);
    table.set(key, item);
    return item;
  };
  db.on(GetCommand).callsFake((input: { Key: { pk: string; sk: string } }) => ({ Item: structuredClone(table.get(keyOf(input.Key))) }));
  db.on(PutCommand).callsFake((input: { Item: Item }) => {
    table.set(keyOf(input.Item as never), structuredClone(input.Item));
    return {};
  });
  db.on(DeleteCommand).callsFake((input: { Key: { pk: string; sk: string } }) => {
    table.delete(keyOf(input.Key));
    return {};
  });
  db.on(UpdateCommand).callsFake((input: UpdateInput) => ({ Attributes: structuredClone(update(input)) }));
  db.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
    for (const t of input.TransactItems ?? []) {
      if (t.Put) table.set(keyOf(t.Put.Item as never), structuredClone(t.Put.Item as Item));
      if (t.Delete) table.delete(keyOf(t.Delete.Key as never));
      if (t.Update && options.updatesInTransactions) update(t.Update as never);
    }
    return {};
  });
  return table;
}
