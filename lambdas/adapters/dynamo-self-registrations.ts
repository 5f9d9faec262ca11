/**
 * Self-registration requests in the records table (lambdas/domain/self-registration.ts), in a
 * key space of their own (the grant `selfRegistration:write` reaches SELFREG* items only):
 *   SELFREG#<requestId> / REQUEST            the request: the person's data, status, link state
 *   SELFREGLIST#<status> / <createdAt>#<id>  the staff list entry (a copy), oldest first by sort key
 *   SELFREGEMAIL#<sha256(email)> / OPEN      the address's one open request (id, until when)
 *   SELFREGLINK#<sha256(token)> / LINK       the live email link (requestId, expiresAt)
 * Every change is one TransactWriteItems with named items (transactions.ts); the approve also
 * writes the portal record and the email-match link (EMAILMATCH#, EMAILMATCHLINK#) in it.
 * Every item carries `ttl` (epoch seconds of `deleteAt`); every read checks the time as well, in
 * the domain, since DynamoDB deletes late and DynamoDB Local never does.
 */
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { DomainError, versionConflict } from '../domain/errors.ts';
import type { RequestWrite, SelfRegistrationStore, StoredRequest } from '../domain/self-registration.ts';
import type { SelfRegistrationStatus } from '../schemas/self-registration.ts';
import { dynamo } from './clients.ts';
import { linkKeys } from './dynamo-links.ts';
import { auditItem, decodeCursor, encodeCursor, recordItem, versionCondition } from './dynamo-store.ts';
import { conditionFailed, transactWrite, type NamedItems } from './transactions.ts';

export const selfRegistrationKeys = {
  request: (requestId: string) => ({ pk: `SELFREG#${requestId}`, sk: 'REQUEST' }),
  list: (status: string, createdAt: string, requestId: string) => ({ pk: `SELFREGLIST#${status}`, sk: `${createdAt}#${requestId}` }),
  open: (emailHash: string) => ({ pk: `SELFREGEMAIL#${emailHash}`, sk: 'OPEN' }),
  link: (tokenHash: string) => ({ pk: `SELFREGLINK#${tokenHash}`, sk: 'LINK' }),
};

/** The statuses staff list; an unproved request is never listed. */
const listed = (status: StoredRequest['status']) => status !== 'Unverified';

const ttlOf = (iso: string) => Math.floor(Date.parse(iso) / 1000);

const toRequest = (item: Record<string, unknown>): StoredRequest => {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...rest } = item;
  return rest as unknown as StoredRequest;
};

const badCursor = () =>
  new DomainError('bad-request', 'validation-error', 'The request is not valid.', {
    errors: [{ path: 'query.cursor', message: 'is not a cursor this service handed out' }],
  });

/** Items whose condition failing means "read again" (the domain retries, then answers 409). */
const conflictNames = ['request', 'open', 'record', 'linkState', 'linkPointer', 'putPointer'] as const;

export function dynamoSelfRegistrations(options: { db?: Pick<DynamoDBDocumentClient, 'send'>; table?: string; auditTable?: string } = {}): SelfRegistrationStore {
  const db = options.db ?? dynamo();
  const table = options.table ?? config().RECORDS_TABLE;
  const auditTable = options.auditTable ?? config().AUDIT_TABLE;
  const emailMatch = linkKeys('email-match');

  const getItem = async (key: { pk: string; sk: string }) => (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

  return {
    async get(requestId) {
      const item = await getItem(selfRegistrationKeys.request(requestId));
      return item ? toRequest(item) : undefined;
    },

    async openRequest(emailHash) {
      const item = await getItem(selfRegistrationKeys.open(emailHash));
      return item ? { requestId: String(item.requestId), deleteAt: String(item.deleteAt) } : undefined;
    },

    async findLink(tokenHash) {
      const item = await getItem(selfRegistrationKeys.link(tokenHash));
      return item ? { requestId: String(item.requestId), expiresAt: String(item.expiresAt) } : undefined;
    },

    async list(status: SelfRegistrationStatus, cursor, limit) {
      const pk = `SELFREGLIST#${status}`;
      const start = decodeCursor(cursor, ['pk', 'sk']);
      // A cursor of another status's list must not page through this one.
      if (start && start.pk !== pk) throw badCursor();
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ScanIndexForward: true,
          Limit: limit,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      return { items: (out.Items ?? []).map(toRequest), ...(out.LastEvaluatedKey ? { cursor: encodeCursor(out.LastEvaluatedKey) } : {}) };
    },

    async write(change: RequestWrite) {
      const { next, previous } = change.request;
      const now = next.updatedAt;
      const ttl = ttlOf(next.deleteAt);
      const requestKey = selfRegistrationKeys.request(next.requestId);
      const listKey = selfRegistrationKeys.list(next.status, next.createdAt, next.requestId);
      const oldListKey = previous && listed(previous.status) ? selfRegistrationKeys.list(previous.status, previous.createdAt, previous.requestId) : undefined;
      const items: NamedItems = {
        request: {
          Put: {
            TableName: table,
            Item: { ...next, ...requestKey, ttl },
            ...(previous ? versionCondition(previous.version) : { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        },
        ...(oldListKey && oldListKey.sk + oldListKey.pk !== listKey.sk + listKey.pk ? { unlist: { Delete: { TableName: table, Key: oldListKey } } } : {}),
        ...(listed(next.status) ? { list: { Put: { TableName: table, Item: { ...next, ...listKey, ttl } } } } : {}),
        ...(change.openRequest === 'claim'
          ? {
              open: {
                Put: {
                  TableName: table,
                  Item: { ...selfRegistrationKeys.open(next.emailHash), requestId: next.requestId, deleteAt: next.deleteAt, ttl },
                  // Free, this request's own, or held by a request that has expired.
                  ConditionExpression: 'attribute_not_exists(pk) OR requestId = :me OR deleteAt <= :now',
                  ExpressionAttributeValues: { ':me': next.requestId, ':now': now },
                },
              },
            }
          : {}),
        ...(change.openRequest === 'free'
          ? {
              open: {
                Delete: {
                  TableName: table,
                  Key: selfRegistrationKeys.open(next.emailHash),
                  // Never another request's claim.
                  ConditionExpression: 'attribute_not_exists(pk) OR requestId = :me',
                  ExpressionAttributeValues: { ':me': next.requestId },
                },
              },
            }
          : {}),
        ...(change.putPointer
          ? {
              putPointer: {
                Put: {
                  TableName: table,
                  Item: {
                    ...selfRegistrationKeys.link(change.putPointer.tokenHash),
                    requestId: change.putPointer.requestId,
                    expiresAt: change.putPointer.expiresAt,
                    ttl: ttlOf(change.putPointer.expiresAt),
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            }
          : {}),
        ...(change.deletePointer ? { deletePointer: { Delete: { TableName: table, Key: selfRegistrationKeys.link(change.deletePointer) } } } : {}),
        ...(change.record
          ? { record: { Put: { TableName: table, Item: recordItem(change.record.next), ...versionCondition(change.record.expectedVersion) } } }
          : {}),
        ...(change.link
          ? {
              linkState: {
                Put: {
                  TableName: table,
                  Item: { ...change.link.state.next, ...emailMatch.state(change.link.state.next.patientId) },
                  ...versionCondition(change.link.state.expectedVersion),
                },
              },
              ...(change.link.putPointer
                ? {
                    linkPointer: {
                      Put: {
                        TableName: table,
                        Item: {
                          ...emailMatch.pointer(change.link.putPointer.tokenHash),
                          patientId: change.link.putPointer.patientId,
                          linkId: change.link.putPointer.linkId,
                          expiresAt: change.link.putPointer.expiresAt,
                          // As dynamo-links.ts: the pointer outlives its expiry by a day, then goes.
                          ttl: ttlOf(change.link.putPointer.expiresAt) + 24 * 60 * 60,
                        },
                        ConditionExpression: 'attribute_not_exists(pk)',
                      },
                    },
                  }
                : {}),
              ...(change.link.deletePointer ? { linkOldPointer: { Delete: { TableName: table, Key: emailMatch.pointer(change.link.deletePointer) } } } : {}),
            }
          : {}),
        ...(change.audit ? { audit: { Put: { TableName: auditTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } } } : {}),
      };
      try {
        await transactWrite(db, items);
      } catch (err) {
        if (conflictNames.some((name) => conditionFailed(err, name))) throw versionConflict();
        throw err;
      }
    },
  };
}

let shared: SelfRegistrationStore | undefined;

/** The store the handlers use, made once per cold start. */
export const selfRegistrationStore = (): SelfRegistrationStore => (shared ??= dynamoSelfRegistrations());
