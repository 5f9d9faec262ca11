/**
 * Credential resets in the records table: the one-time link adapter (dynamo-links.ts) with the
 * reset policy, in the RESET# / RESETLINK# key space that the 'reset:issue' grant names:
 *   RESET#<patientId> / RESET          the current reset link's state (token hash, PIN hash,
 *                                      try counters, lease, the login it resets, the emails' times)
 *   RESETLINK#<sha256(token)> / LINK   a live pointer: patientId, linkId, expiresAt, ttl
 * Plus the forced credential change's job item.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { versionConflict } from '../domain/errors.ts';
import type { ForcedChangeJob, ForcedChangeJobStore } from '../domain/forced-change.ts';
import { resetPolicy, type ResetStore } from '../domain/resets.ts';
import { dynamo } from './clients.ts';
import { dynamoLinks } from './dynamo-links.ts';
import { versionCondition } from './dynamo-store.ts';

export const dynamoResets = (): ResetStore => dynamoLinks(resetPolicy);

export const forcedChangeJobKey = { pk: 'JOB#forced-credential-change', sk: 'JOB' } as const;

/** The progress of the forced credential change (lambdas/domain/forced-change.ts): one item, versioned. */
export function dynamoForcedChangeJobs(): ForcedChangeJobStore {
  const table = config().RECORDS_TABLE;
  const db = dynamo();
  return {
    async getJob() {
      const item = (await db.send(new GetCommand({ TableName: table, Key: forcedChangeJobKey, ConsistentRead: true }))).Item;
      if (!item) return undefined;
      const { pk: _pk, sk: _sk, ...job } = item;
      return job as ForcedChangeJob;
    },
    async saveJob(job, expectedVersion) {
      try {
        await db.send(new PutCommand({ TableName: table, Item: { ...job, ...forcedChangeJobKey }, ...versionCondition(expectedVersion) }));
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) throw versionConflict();
        throw err;
      }
    },
  };
}
