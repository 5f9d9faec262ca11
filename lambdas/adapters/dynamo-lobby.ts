/**
 * The LobbyStore on DynamoDB, in the records table:
 *   LOBBY#<patientId> / PASSWORD        the patient's one lobby password (hash and salt only)
 *   LOBBYSESSION#<sha256 of token> / SESSION   a lobby session
 * Both carry `ttl` (epoch seconds of their expiry) so DynamoDB removes them in AWS; reads check
 * the expiry themselves, as DynamoDB Local never does. Their partition keys have prefixes of
 * their own so that IAM (dynamodb:LeadingKeys, lib/stack/grants.ts) can give the lobby functions
 * these items and not the portal records beside them.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { getItem } from './dynamo-batch.ts';
import { accountItemKey } from './dynamo-throttle.ts';
import { config } from '../config.ts';
import type { AuditEvent } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import { maxCandidates, type LobbyStore, type StoredLobbyPassword, type StoredLobbySession } from '../domain/lobby.ts';
import { dynamo } from './clients.ts';
import { auditItem } from './dynamo-store.ts';
import { ConditionsFailed, conditionFailed, transactWrite, type NamedItems } from './transactions.ts';

export const lobbyPasswordKey = (patientId: string) => ({ pk: `LOBBY#${patientId}`, sk: 'PASSWORD' });
export const lobbySessionKey = (tokenHash: string) => ({ pk: `LOBBYSESSION#${tokenHash}`, sk: 'SESSION' });

const ttlOf = (iso: string) => Math.ceil(Date.parse(iso) / 1000);

type Item = Record<string, unknown>;

const toPassword = (item: Item): StoredLobbyPassword => ({
  patientId: String(item.patientId),
  salt: String(item.salt),
  passwordHash: String(item.passwordHash),
  createdAt: String(item.createdAt),
  createdBy: String(item.createdBy),
  expiresAt: String(item.expiresAt),
  used: item.used === true,
  ...(item.scheme === 'hmac-sha256' ? { scheme: 'hmac-sha256' as const } : {}),
  ...(typeof item.sessionTokenHash === 'string' ? { sessionTokenHash: item.sessionTokenHash } : {}),
  ...(typeof item.generation === 'number' ? { generation: item.generation } : {}),
});

const toSession = (item: Item): StoredLobbySession => ({
  tokenHash: String(item.tokenHash),
  patientId: String(item.patientId),
  scope: item.scope as StoredLobbySession['scope'],
  createdAt: String(item.createdAt),
  expiresAt: String(item.expiresAt),
  ...(typeof item.idempotencyKeyHash === 'string' ? { idempotencyKeyHash: item.idempotencyKeyHash } : {}),
  ...(typeof item.generation === 'number' ? { generation: item.generation } : {}),
});

/**
 * DynamoDB may cancel racing transactions on one item with TransactionConflict (DynamoDB Local
 * never does); they are tried again, and then the condition decides which one wins. If they
 * keep colliding, the caller may try again: a 503, not a refusal counted against them.
 */
const conflictTries = 4;
const busy = () => new DomainError('unavailable', 'busy', 'Too many sign-ins at once. Try again in a moment.', { retryAfterSeconds: 1 });

/**
 * One transaction whose `deciding` items' conditions decide: false when one of them failed (any
 * other failed condition is not an answer, and is thrown); TransactionConflict tried again.
 */
async function conditionalTransaction(items: NamedItems, deciding: readonly string[]): Promise<boolean> {
  const db = dynamo();
  for (let attempt = 1; ; attempt++) {
    try {
      await transactWrite(db, items);
      return true;
    } catch (err) {
      if (err instanceof ConditionsFailed) {
        if (deciding.some((name) => conditionFailed(err, name))) return false;
        throw err;
      }
      if (!(err instanceof TransactionCanceledException)) throw err;
      const codes = err.CancellationReasons?.map((r) => r.Code) ?? [];
      if (!codes.includes('TransactionConflict')) throw err;
      if (attempt >= conflictTries) throw busy();
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

export function dynamoLobby(): LobbyStore {
  const { RECORDS_TABLE: records, AUDIT_TABLE: audit } = config();
  const db = dynamo();
  const auditPut = (event: AuditEvent) => ({
    Put: { TableName: audit, Item: auditItem(event), ConditionExpression: 'attribute_not_exists(pk)' },
  });

  return {
    async patientIdsByMasterCase(masterCase) {
      const out = await db.send(
        new QueryCommand({
          TableName: records,
          IndexName: 'byMasterCase',
          KeyConditionExpression: 'masterCaseKey = :v',
          ExpressionAttributeValues: { ':v': masterCase.toLowerCase() },
          ProjectionExpression: 'patientId',
          Limit: maxCandidates,
        }),
      );
      return (out.Items ?? []).map((i) => String(i.patientId));
    },

    async getPassword(patientId) {
      const out = await getItem(db, { TableName: records, Key: lobbyPasswordKey(patientId), ConsistentRead: true });
      return out.Item ? toPassword(out.Item) : undefined;
    },

    async putPassword(password, event, clearThrottle) {
      await transactWrite(db, {
        password: { Put: { TableName: records, Item: { ...lobbyPasswordKey(password.patientId), ...password, ttl: ttlOf(password.expiresAt) } } },
        audit: auditPut(event),
        counter: { Delete: { TableName: records, Key: accountItemKey(clearThrottle) } },
      });
    },

    async redeem(password, session, now, event) {
      return conditionalTransaction(
        {
          password: {
            Update: {
              TableName: records,
              Key: lobbyPasswordKey(password.patientId),
              UpdateExpression: 'SET used = :true, usedAt = :now, sessionTokenHash = :session',
              // The very password that was checked (staff may have replaced it), still unused and unexpired.
              ConditionExpression: 'used = :false AND passwordHash = :hash AND expiresAt > :now',
              ExpressionAttributeValues: { ':true': true, ':false': false, ':hash': password.passwordHash, ':now': now.toISOString(), ':session': session.tokenHash },
            },
          },
          session: {
            Put: {
              TableName: records,
              Item: { ...lobbySessionKey(session.tokenHash), ...session, ttl: ttlOf(session.expiresAt) },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          audit: auditPut(event),
        },
        ['password'],
      );
    },

    async replaySession(password, previous, next, now, event) {
      return conditionalTransaction(
        {
          password: {
            Update: {
              TableName: records,
              Key: lobbyPasswordKey(password.patientId),
              UpdateExpression: 'SET sessionTokenHash = :next',
              // Still this password, used by the very session being replaced, and unexpired.
              ConditionExpression: 'used = :true AND passwordHash = :hash AND sessionTokenHash = :previous AND expiresAt > :now',
              ExpressionAttributeValues: {
                ':true': true,
                ':hash': password.passwordHash,
                ':previous': previous.tokenHash,
                ':next': next.tokenHash,
                ':now': now.toISOString(),
              },
            },
          },
          previous: {
            Delete: {
              TableName: records,
              Key: lobbySessionKey(previous.tokenHash),
              ConditionExpression: 'idempotencyKeyHash = :key',
              ExpressionAttributeValues: { ':key': previous.idempotencyKeyHash },
            },
          },
          next: {
            Put: {
              TableName: records,
              Item: { ...lobbySessionKey(next.tokenHash), ...next, ttl: ttlOf(next.expiresAt) },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          audit: auditPut(event),
        },
        ['password', 'previous'],
      );
    },

    async endSession(tokenHash, event) {
      try {
        await transactWrite(db, {
          session: { Delete: { TableName: records, Key: lobbySessionKey(tokenHash), ConditionExpression: 'attribute_exists(pk)' } },
          audit: auditPut(event),
        });
      } catch (err) {
        // Already gone (a repeated End, or one whose answer was lost): nothing to do.
        if (conditionFailed(err, 'session')) return;
        throw err;
      }
    },

    async getSession(tokenHash) {
      const out = await db.send(new GetCommand({ TableName: records, Key: lobbySessionKey(tokenHash), ConsistentRead: true }));
      return out.Item ? toSession(out.Item) : undefined;
    },
  };
}
