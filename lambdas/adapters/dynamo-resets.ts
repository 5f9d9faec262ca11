/**
 * Credential resets in the records table (lambdas/domain/resets.ts explains the pieces):
 *   RESET#<patientId> / RESET          the current reset: token hash, PIN hash (scrypt), try
 *                                      counters, the last emails' times, the lease
 *   RESETLINK#<sha256(token)> / LINK   a live link: patientId, resetId, expiresAt
 * Issuing is one transaction (reset, new link, old link deleted, audit) touching RESET* items
 * only, which is all the 'reset:issue' grant allows; completing adds the record, the username
 * and account items. Links and resets carry `ttl`; every read checks expiry itself as well,
 * because DynamoDB Local never expires items.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { versionConflict } from '../domain/errors.ts';
import type { ForcedChangeJob, ForcedChangeJobStore } from '../domain/forced-change.ts';
import { MAX_RESET_FAILURES, resetGone, type ResetLink, type ResetStore, type StoredReset } from '../domain/resets.ts';
import { dynamo } from './clients.ts';
import { claimUsernameItem, linkAccountItem, releaseUsernameItem, usernameTaken } from './dynamo-accounts.ts';
import { auditItem, recordItem, versionCondition } from './dynamo-store.ts';
import { conditionFailed, transactWrite } from './transactions.ts';

export const resetKey = (patientId: string) => ({ pk: `RESET#${patientId}`, sk: 'RESET' });
export const resetLinkKey = (tokenHash: string) => ({ pk: `RESETLINK#${tokenHash}`, sk: 'LINK' });

/** Kept a day past expiry (and the reset an hour more, for the hourly email limit), then DynamoDB removes them. */
const ttlAfter = (iso: string, extraSeconds: number) => Math.floor(Date.parse(iso) / 1000) + extraSeconds;

function toReset(item: Record<string, unknown>): StoredReset {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...rest } = item;
  return rest as unknown as StoredReset;
}

export function dynamoResets(): ResetStore {
  const { RECORDS_TABLE: table, AUDIT_TABLE: auditTable } = config();
  const db = dynamo();

  const getReset = async (patientId: string) => {
    const item = (await db.send(new GetCommand({ TableName: table, Key: resetKey(patientId), ConsistentRead: true }))).Item;
    return item ? toReset(item) : undefined;
  };

  /** An update of the pending reset `resetId`; false when its condition failed. */
  const update = async (patientId: string, input: { update: string; condition: string; names?: Record<string, string>; values: Record<string, unknown> }) => {
    try {
      const out = await db.send(
        new UpdateCommand({
          TableName: table,
          Key: resetKey(patientId),
          UpdateExpression: input.update,
          ConditionExpression: input.condition,
          // Only the names the expressions use: DynamoDB refuses unused ones.
          ExpressionAttributeNames: {
            ...(`${input.update} ${input.condition}`.includes('#status') ? { '#status': 'status' } : {}),
            ...input.names,
          },
          ExpressionAttributeValues: input.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toReset(out.Attributes ?? {});
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  };
  const pending = 'resetId = :reset AND #status = :pending';

  return {
    getReset,

    async findLink(tokenHash) {
      const item = (await db.send(new GetCommand({ TableName: table, Key: resetLinkKey(tokenHash), ConsistentRead: true }))).Item;
      if (!item) return undefined;
      const link: ResetLink = { tokenHash, patientId: String(item.patientId), resetId: String(item.resetId), expiresAt: String(item.expiresAt) };
      return link;
    },

    async issue(change) {
      const { next } = change;
      try {
        await transactWrite(db, {
          reset: {
            Put: {
              TableName: table,
              Item: { ...next, ...resetKey(next.patientId), ttl: ttlAfter(next.expiresAt, 25 * 60 * 60) },
              ...versionCondition(change.expectedVersion),
            },
          },
          audit: { Put: { TableName: auditTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } },
          ...(change.putLink
            ? {
                newLink: {
                  Put: {
                    TableName: table,
                    Item: {
                      ...resetLinkKey(change.putLink.tokenHash),
                      patientId: change.putLink.patientId,
                      resetId: change.putLink.resetId,
                      expiresAt: change.putLink.expiresAt,
                      ttl: ttlAfter(change.putLink.expiresAt, 24 * 60 * 60),
                    },
                    ConditionExpression: 'attribute_not_exists(pk)',
                  },
                },
              }
            : {}),
          ...(change.deleteLink ? { oldLink: { Delete: { TableName: table, Key: resetLinkKey(change.deleteLink) } } } : {}),
        });
      } catch (err) {
        if (conditionFailed(err, 'reset')) throw versionConflict();
        throw err;
      }
    },

    async reserveTry(patientId, resetId) {
      const reserved = await update(patientId, {
        update: 'ADD tries :one, version :one',
        condition: `${pending} AND tries < :max`,
        values: { ':one': 1, ':reset': resetId, ':pending': 'Pending', ':max': MAX_RESET_FAILURES },
      });
      if (reserved) return 'reserved';
      const current = await getReset(patientId);
      const live = current?.resetId === resetId && current.status === 'Pending' && current.failures < MAX_RESET_FAILURES;
      return live ? 'busy' : 'gone';
    },

    async releaseTry(patientId, resetId) {
      await update(patientId, {
        update: 'ADD tries :minus, version :one',
        condition: `resetId = :reset AND tries > :zero`,
        values: { ':minus': -1, ':one': 1, ':reset': resetId, ':zero': 0 },
      });
    },

    async countFailure(patientId, resetId) {
      const out = await update(patientId, {
        update: 'ADD failures :one, version :one',
        condition: pending,
        values: { ':one': 1, ':reset': resetId, ':pending': 'Pending' },
      });
      return out ? Number(out.failures) : undefined;
    },

    async kill(patientId, resetId, audit) {
      const current = await getReset(patientId);
      if (current?.resetId !== resetId || current.status !== 'Pending') return;
      const { tokenHash, pinHash: _pin, lease: _lease, ...kept } = current;
      try {
        await transactWrite(db, {
          reset: {
            Put: {
              TableName: table,
              Item: { ...kept, status: 'Dead', version: current.version + 1, ...resetKey(patientId), ttl: ttlAfter(current.expiresAt, 25 * 60 * 60) },
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': current.version },
            },
          },
          ...(tokenHash ? { link: { Delete: { TableName: table, Key: resetLinkKey(tokenHash) } } } : {}),
          audit: { Put: { TableName: auditTable, Item: auditItem(audit), ConditionExpression: 'attribute_not_exists(pk)' } },
        });
      } catch (err) {
        // Moved meanwhile (another wrong try, a new request): the counter alone already keeps the link dead.
        if (!conditionFailed(err, 'reset')) throw err;
      }
    },

    async takeLease(patientId, resetId, tokenHash, lease, now) {
      const taken = await update(patientId, {
        update: 'SET #lease = :lease ADD version :one',
        condition: `${pending} AND tokenHash = :hash AND expiresAt > :now AND failures < :max AND (attribute_not_exists(#lease) OR #lease.#until < :now)`,
        names: { '#lease': 'lease', '#until': 'until' },
        values: { ':lease': lease, ':one': 1, ':reset': resetId, ':pending': 'Pending', ':hash': tokenHash, ':now': now.toISOString(), ':max': MAX_RESET_FAILURES },
      });
      if (taken) return 'taken';
      const current = await getReset(patientId);
      const held =
        current?.resetId === resetId &&
        current.status === 'Pending' &&
        current.tokenHash === tokenHash &&
        current.lease !== undefined &&
        current.lease.until >= now.toISOString();
      return held ? 'held' : 'gone';
    },

    async releaseLease(patientId, leaseId) {
      await update(patientId, {
        update: 'REMOVE #lease ADD version :one',
        condition: '#lease.id = :lease',
        names: { '#lease': 'lease' },
        values: { ':lease': leaseId, ':one': 1 },
      });
    },

    async complete(change) {
      const { next } = change.record;
      const accountId = next.accountId;
      if (!accountId) throw new Error('complete needs a record with an accountId');
      const { patientId } = change;
      const release = change.release && change.release.toLowerCase() !== change.claim.toLowerCase() ? change.release : undefined;
      try {
        await transactWrite(db, {
          record: { Put: { TableName: table, Item: recordItem(next), ...versionCondition(change.record.expectedVersion) } },
          reset: {
            Update: {
              TableName: table,
              Key: resetKey(patientId),
              // Used: the PIN hash and the token hash go, the link with them.
              UpdateExpression: 'SET #status = :used REMOVE pinHash, tokenHash, #lease ADD version :one',
              ConditionExpression: 'resetId = :reset AND #status = :pending AND tokenHash = :hash AND #lease.id = :lease',
              ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease' },
              ExpressionAttributeValues: {
                ':used': 'Used',
                ':one': 1,
                ':reset': change.resetId,
                ':pending': 'Pending',
                ':hash': change.tokenHash,
                ':lease': change.leaseId,
              },
            },
          },
          link: { Delete: { TableName: table, Key: resetLinkKey(change.tokenHash) } },
          account: linkAccountItem(table, accountId, patientId),
          username: claimUsernameItem(table, change.claim, accountId, patientId),
          audit: { Put: { TableName: auditTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } },
          ...(release ? { release: releaseUsernameItem(table, release, accountId) } : {}),
        });
      } catch (err) {
        // The lease lost, or the login now belongs to another record: this reset cannot finish.
        if (conditionFailed(err, 'reset') || conditionFailed(err, 'account')) throw resetGone();
        if (conditionFailed(err, 'username')) throw usernameTaken();
        if (conditionFailed(err, 'record')) throw versionConflict();
        throw err;
      }
    },
  };
}

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
