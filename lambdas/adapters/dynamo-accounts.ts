/**
 * Patient logins in the records table: USERNAME#<lower-cased name> items make usernames unique,
 * ACCOUNT#<accountId> items lead from a token's subject to its record. Both are written in the
 * same transaction as the record, so a username can never point at a record that does not use it.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { DomainError, versionConflict } from '../domain/errors.ts';
import type { AccountLink, AccountStore, ChallengeStore } from '../domain/ports.ts';
import { dynamo } from './clients.ts';
import { auditItem, recordItem, versionCondition } from './dynamo-store.ts';
import { conditionFailed, transactWrite } from './transactions.ts';

export const usernameKey = (username: string) => ({ pk: `USERNAME#${username.trim().toLowerCase()}`, sk: 'USERNAME' });
export const accountKey = (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT' });
export const challengeKey = (tokenHash: string) => ({ pk: `CHALLENGE#${tokenHash}`, sk: 'CHALLENGE' });

export const usernameTaken = () =>
  new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

/**
 * The transaction items that tie a login to its record: the ACCOUNT# link (the same record or
 * new) and the claimed username (free, or already this account's: a retry of the same change).
 * Every flow that creates or renames a login writes these in its own transaction.
 */
export function linkAccountItem(table: string, accountId: string, patientId: string) {
  return {
    Put: {
      TableName: table,
      Item: { ...accountKey(accountId), accountId, patientId },
      ConditionExpression: 'attribute_not_exists(pk) OR patientId = :patient',
      ExpressionAttributeValues: { ':patient': patientId },
    },
  };
}

export function claimUsernameItem(table: string, username: string, accountId: string, patientId: string) {
  return {
    Put: {
      TableName: table,
      Item: { ...usernameKey(username), accountId, patientId },
      ConditionExpression: 'attribute_not_exists(pk) OR accountId = :me',
      ExpressionAttributeValues: { ':me': accountId },
    },
  };
}

/** Lets go of a username this account held (a rename); never one another account holds. */
export function releaseUsernameItem(table: string, username: string, accountId: string) {
  return {
    Delete: {
      TableName: table,
      Key: usernameKey(username),
      ConditionExpression: 'attribute_not_exists(pk) OR accountId = :me',
      ExpressionAttributeValues: { ':me': accountId },
    },
  };
}

export const sessionUsed = () =>
  new DomainError('unauthorized', 'session-expired', 'This sign-in step has expired or was already completed. Sign in again.');

export function dynamoAccounts(): AccountStore {
  const { RECORDS_TABLE: table, AUDIT_TABLE: auditTable } = config();
  const db = dynamo();

  const link = async (key: { pk: string; sk: string }): Promise<AccountLink | undefined> => {
    const item = (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
    // '': a proxy's login with no record of its own (lambdas/domain/proxies.ts), never the text "undefined".
    return item ? { accountId: String(item.accountId), patientId: typeof item.patientId === 'string' ? item.patientId : '' } : undefined;
  };

  return {
    findByUsername: (username) => link(usernameKey(username)),
    findByAccountId: (accountId) => link(accountKey(accountId)),

    async saveLogin(record, expectedVersion, event, options) {
      const { accountId, patientId } = record;
      if (!accountId) throw new Error('saveLogin needs a record with an accountId');
      const { claim, consumeChallenge } = options;
      const release = options.release && options.release.toLowerCase() !== claim?.toLowerCase() ? options.release : undefined;
      try {
        await transactWrite(db, {
          record: { Put: { TableName: table, Item: recordItem(record), ...versionCondition(expectedVersion) } },
          account: linkAccountItem(table, accountId, patientId),
          audit: { Put: { TableName: auditTable, Item: auditItem(event), ConditionExpression: 'attribute_not_exists(pk)' } },
          ...(claim ? { claim: claimUsernameItem(table, claim, accountId, patientId) } : {}),
          ...(release ? { release: releaseUsernameItem(table, release, accountId) } : {}),
          ...(consumeChallenge
            ? { challenge: { Delete: { TableName: table, Key: challengeKey(consumeChallenge), ConditionExpression: 'attribute_exists(pk)' } } }
            : {}),
        });
      } catch (err) {
        if (conditionFailed(err, 'record')) throw versionConflict();
        if (conditionFailed(err, 'claim')) throw usernameTaken();
        if (conditionFailed(err, 'challenge')) throw sessionUsed();
        throw err;
      }
    },
  };
}

export function dynamoChallenges(): ChallengeStore {
  const table = config().RECORDS_TABLE;
  const db = dynamo();
  return {
    async create(tokenHash, challenge) {
      const ttl = Math.floor(Date.parse(challenge.expiresAt) / 1000);
      await db.send(
        new PutCommand({ TableName: table, Item: { ...challengeKey(tokenHash), ...challenge, ttl }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    },
    async get(tokenHash) {
      const item = (await db.send(new GetCommand({ TableName: table, Key: challengeKey(tokenHash), ConsistentRead: true }))).Item;
      if (!item) return undefined;
      return {
        accountId: String(item.accountId),
        patientId: String(item.patientId),
        expiresAt: String(item.expiresAt),
        // Absent (a step opened before the rule) is refused by sessionStillLive: sign in again.
        ...(typeof item.generation === 'number' ? { generation: item.generation } : {}),
      };
    },
  };
}
