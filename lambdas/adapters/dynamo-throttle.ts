/**
 * Sign-in failure counters in the records table, under keys that start with THROTTLE# (the
 * throttle grant is limited to those keys by IAM). Expiry is by TTL in AWS and by the domain's
 * own age check everywhere, since DynamoDB Local does not expire items.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { throttlePolicy, type AccountFailures, type ThrottleStore } from '../domain/sign-in-throttle.ts';
import { dynamo } from './clients.ts';
import { getItem, readTogether } from './dynamo-batch.ts';
import { auditItem } from './dynamo-store.ts';
import { transactWrite } from './transactions.ts';

/** The account counter's item (also deleted inside other flows' transactions: dynamo-lobby.ts). */
export const accountItemKey = (key: string) => ({ pk: `THROTTLE#account#${key}`, sk: 'FAILURES' });
const addressItemKey = (key: string) => ({ pk: `THROTTLE#address#${key}`, sk: 'FAILURES' });

export function dynamoThrottle(): ThrottleStore {
  const { RECORDS_TABLE: table, AUDIT_TABLE: auditTable } = config();
  const db = dynamo();
  return {
    together: readTogether,

    async read(accountKey, addressKey) {
      const [account, address] = await Promise.all([
        getItem(db, { TableName: table, Key: accountItemKey(accountKey), ConsistentRead: true }),
        getItem(db, { TableName: table, Key: addressItemKey(addressKey), ConsistentRead: true }),
      ]);
      const a = account.Item;
      return {
        ...(a ? { account: { failures: Number(a.failures), lastFailureAt: Number(a.lastFailureAt) } satisfies AccountFailures } : {}),
        addressFailures: Number(address.Item?.failures ?? 0),
      };
    },

    async recordFailure(accountKey, addressKey, now) {
      const epoch = Math.floor(now.getTime() / 1000);
      const [account] = await Promise.all([
        db.send(
          new UpdateCommand({
            TableName: table,
            Key: accountItemKey(accountKey),
            UpdateExpression: 'ADD failures :one SET lastFailureAt = :now, #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':one': 1, ':now': now.getTime(), ':ttl': epoch + throttlePolicy.forgetAfterSeconds },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
        db.send(
          new UpdateCommand({
            TableName: table,
            Key: addressItemKey(addressKey),
            UpdateExpression: 'ADD failures :one SET #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':one': 1, ':ttl': epoch + 2 * throttlePolicy.addressWindowSeconds },
          }),
        ),
      ]);
      // A locked account stays locked until a reset or staff action: it must not expire.
      if (Number(account.Attributes?.failures) >= throttlePolicy.lockAfterFailures) {
        await db.send(
          new UpdateCommand({ TableName: table, Key: accountItemKey(accountKey), UpdateExpression: 'REMOVE #ttl', ExpressionAttributeNames: { '#ttl': 'ttl' } }),
        );
      }
    },

    async clearAccount(accountKey, audit) {
      if (!audit) {
        await db.send(new DeleteCommand({ TableName: table, Key: accountItemKey(accountKey) }));
        return;
      }
      // The sign-in's audit entry and the end of its reservation: one call, all or nothing.
      await transactWrite(db, {
        counter: { Delete: { TableName: table, Key: accountItemKey(accountKey) } },
        audit: { Put: { TableName: auditTable, Item: auditItem(audit), ConditionExpression: 'attribute_not_exists(pk)' } },
      });
    },

    async reserve(accountKey, seen, now) {
      const failures = (seen?.failures ?? 0) + 1;
      // A locked account stays locked until a reset or staff action: no expiry from the lock on.
      const locked = failures >= throttlePolicy.lockAfterFailures;
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: accountItemKey(accountKey),
            UpdateExpression: `SET failures = :next, lastFailureAt = :now${locked ? ' REMOVE #ttl' : ', #ttl = :ttl'}`,
            ConditionExpression: seen ? 'failures = :seen AND lastFailureAt = :seenAt' : 'attribute_not_exists(failures)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':next': failures,
              ':now': now.getTime(),
              ...(locked ? {} : { ':ttl': Math.floor(now.getTime() / 1000) + throttlePolicy.forgetAfterSeconds }),
              ...(seen ? { ':seen': seen.failures, ':seenAt': seen.lastFailureAt } : {}),
            },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw err;
      }
    },

    async settle(accountKey, addressKey, outcome, now) {
      if (outcome === 'refused') {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: addressItemKey(addressKey),
            UpdateExpression: 'ADD failures :one SET #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':one': 1, ':ttl': Math.floor(now.getTime() / 1000) + 2 * throttlePolicy.addressWindowSeconds },
          }),
        );
        return;
      }
      // Not a refused password (e.g. the pool is down): the reserved try is given back.
      await db
        .send(
          new UpdateCommand({
            TableName: table,
            Key: accountItemKey(accountKey),
            UpdateExpression: 'ADD failures :minus',
            ConditionExpression: 'failures > :zero',
            ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
          }),
        )
        .catch((err: unknown) => {
          if (!(err instanceof ConditionalCheckFailedException)) throw err;
        });
    },
  };
}
