/**
 * The Register Patient lease: an attribute on the record item, set without bumping the version
 * (it is not a change anyone sees) and dropped by the record write that finishes the work, which
 * puts the whole item without it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import type { RegisterLeaseStore } from '../domain/ports.ts';
import { dynamo } from './clients.ts';
import { recordKey } from './dynamo-store.ts';

export function dynamoRegisterLeases(): RegisterLeaseStore {
  const table = config().RECORDS_TABLE;
  const db = dynamo();
  return {
    async takeRegisterLease(patientId, expectedVersion, lease, now) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: recordKey(patientId),
            UpdateExpression: 'SET registerLease = :lease',
            ConditionExpression: 'version = :v AND (attribute_not_exists(registerLease) OR registerLease.#until < :now)',
            ExpressionAttributeNames: { '#until': 'until' },
            ExpressionAttributeValues: { ':lease': lease, ':v': expectedVersion, ':now': now.toISOString() },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw err;
      }
    },
    async releaseRegisterLease(patientId, leaseId) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: recordKey(patientId),
            UpdateExpression: 'REMOVE registerLease',
            ConditionExpression: 'registerLease.id = :id',
            ExpressionAttributeValues: { ':id': leaseId },
          }),
        );
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    },
  };
}
