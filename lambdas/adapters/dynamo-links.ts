/**
 * One-time links in the records table (lambdas/domain/one-time-link.ts), one key space per
 * policy kind:
 *   <STATE>#<patientId> / <sk>      the current link: token hash, stored secrets, counters,
 *                                   lease and accountId, the flow's data, its own version
 *   <LINK>#<sha256(token)> / LINK   a live pointer: patientId, linkId, expiresAt, ttl
 * Every change is one TransactWriteItems with named items (transactions.ts) — the state
 * (conditional on the version read), the pointers, the record if the flow changes it, and the
 * audit entry — except the try counters and the lease, which touch the state item alone.
 * Pointers carry `ttl`; every read checks expiry itself as well, because DynamoDB Local never
 * expires items.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem } from './dynamo-batch.ts';
import { config } from '../config.ts';
import { versionConflict } from '../domain/errors.ts';
import type { LinkPointer, LinkPolicy, LinkState, LinkStore } from '../domain/one-time-link.ts';
import { dynamo } from './clients.ts';
import { claimUsernameItem, linkAccountItem, releaseUsernameItem, usernameTaken } from './dynamo-accounts.ts';
import { auditItem, recordItem, versionCondition } from './dynamo-store.ts';
import { accountItemKey } from './dynamo-throttle.ts';
import { conditionFailed, transactWrite, type NamedItems } from './transactions.ts';

/** The key spaces: the IAM grants (lib/stack/grants.ts) name these prefixes. A new kind adds a row. */
const keySpaces: Record<string, { state: string; sk: string; link: string }> = {
  invitation: { state: 'INVITE', sk: 'INVITATION', link: 'INVITELINK' },
  'email-match': { state: 'EMAILMATCH', sk: 'STATE', link: 'EMAILMATCHLINK' },
  reset: { state: 'RESET', sk: 'RESET', link: 'RESETLINK' },
  // Proxy invitations (domain/proxies.ts): one state per `<patientId>#<proxyId>`.
  proxy: { state: 'PROXYINVITE', sk: 'STATE', link: 'PROXYLINK' },
};

export function linkKeys(kind: string) {
  const space = keySpaces[kind];
  if (!space) throw new Error(`no key space for one-time links of kind ${kind}`);
  return {
    state: (patientId: string) => ({ pk: `${space.state}#${patientId}`, sk: space.sk }),
    pointer: (tokenHash: string) => ({ pk: `${space.link}#${tokenHash}`, sk: 'LINK' }),
  };
}

/** Pointers outlive their expiry by a day in the table (TTL), then DynamoDB removes them. */
const ttlOf = (expiresAt: string) => Math.floor(Date.parse(expiresAt) / 1000) + 24 * 60 * 60;

function toState<D extends object>(item: Record<string, unknown>): LinkState<D> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as LinkState<D>;
}

export function dynamoLinks<D extends object>(
  policy: Pick<LinkPolicy<D>, 'kind' | 'maxFailures' | 'errors'>,
  options: { db?: Pick<DynamoDBDocumentClient, 'send'>; table?: string; auditTable?: string } = {},
): LinkStore<D> {
  const db = options.db ?? dynamo();
  const table = options.table ?? config().RECORDS_TABLE;
  const auditTable = options.auditTable ?? config().AUDIT_TABLE;
  const keys = linkKeys(policy.kind);
  const max = policy.maxFailures;

  const get = async (patientId: string) => {
    const item = (await getItem(db, { TableName: table, Key: keys.state(patientId), ConsistentRead: true })).Item;
    return item ? toState<D>(item) : undefined;
  };

  /** A conditional update of the state item alone; false when its condition failed. */
  const update = async (patientId: string, input: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues: Record<string, unknown>; ReturnValues?: 'UPDATED_NEW' | 'ALL_NEW' }) => {
    try {
      return (await db.send(new UpdateCommand({ TableName: table, Key: keys.state(patientId), ...input }))).Attributes ?? {};
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  };

  const auditPut = (audit: Parameters<typeof auditItem>[0]) => ({ Put: { TableName: auditTable, Item: auditItem(audit), ConditionExpression: 'attribute_not_exists(pk)' } });

  return {
    get,

    async find(tokenHash) {
      // Through getItem: a look-up reading it with other items sends them as one call (issue 16).
      const item = (await getItem(db, { TableName: table, Key: keys.pointer(tokenHash), ConsistentRead: true })).Item;
      if (!item) return undefined;
      const pointer: LinkPointer = { tokenHash, patientId: String(item.patientId), linkId: String(item.linkId), expiresAt: String(item.expiresAt) };
      return pointer;
    },

    async write(change) {
      const { next, expectedVersion } = change.state;
      const items: NamedItems = {
        ...(change.record ? { record: { Put: { TableName: table, Item: recordItem(change.record.next), ...versionCondition(change.record.expectedVersion) } } } : {}),
        // No ttl on the state: it keeps the accountId of an unfinished commit for the next link.
        state: { Put: { TableName: table, Item: { ...next, ...keys.state(next.patientId) }, ...versionCondition(expectedVersion) } },
        audit: auditPut(change.audit),
        ...(change.putPointer
          ? {
              putPointer: {
                Put: {
                  TableName: table,
                  Item: {
                    ...keys.pointer(change.putPointer.tokenHash),
                    patientId: change.putPointer.patientId,
                    linkId: change.putPointer.linkId,
                    expiresAt: change.putPointer.expiresAt,
                    ttl: ttlOf(change.putPointer.expiresAt),
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            }
          : {}),
        ...(change.deletePointer ? { deletePointer: { Delete: { TableName: table, Key: keys.pointer(change.deletePointer) } } } : {}),
      };
      try {
        await transactWrite(db, items);
      } catch (err) {
        // The state first: two staff issuing at once both fail on it, and that is the flow's 409.
        if (conditionFailed(err, 'state')) throw policy.errors.conflict();
        if (conditionFailed(err, 'record')) throw versionConflict();
        throw err;
      }
    },

    async reserveTry(patientId, linkId) {
      const reserved = await update(patientId, {
        UpdateExpression: 'ADD tries :one',
        ConditionExpression: 'linkId = :link AND #status = :pending AND (attribute_not_exists(tries) OR tries < :max)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':one': 1, ':link': linkId, ':pending': 'Pending', ':max': max },
      });
      if (reserved) return 'reserved';
      const current = await get(patientId);
      return current?.linkId === linkId && current.status === 'Pending' && current.failures < max ? 'busy' : 'gone';
    },

    async releaseTry(patientId, linkId) {
      await update(patientId, {
        UpdateExpression: 'ADD tries :minus',
        ConditionExpression: 'linkId = :link AND tries > :zero',
        ExpressionAttributeValues: { ':minus': -1, ':link': linkId, ':zero': 0 },
      });
    },

    async countFailure(patientId, linkId, options) {
      if (options?.leaseId) {
        // The count and the end of this request's lease in one write; a lease no longer ours is left alone.
        const counted = await update(patientId, {
          UpdateExpression: 'REMOVE #lease ADD failures :one, version :one',
          ConditionExpression: 'linkId = :link AND #status = :pending AND #lease.id = :lease',
          ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease' },
          ExpressionAttributeValues: { ':one': 1, ':link': linkId, ':pending': 'Pending', ':lease': options.leaseId },
          ReturnValues: 'UPDATED_NEW',
        });
        if (counted) return Number(counted.failures);
      }
      const out = await update(patientId, {
        UpdateExpression: 'ADD failures :one, version :one',
        ConditionExpression: 'linkId = :link AND #status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':one': 1, ':link': linkId, ':pending': 'Pending' },
        ReturnValues: 'UPDATED_NEW',
      });
      return out ? Number(out.failures) : undefined;
    },

    async takeLease(patientId, linkId, tokenHash, lease, accountId, now, options) {
      const withTry = options?.reserveTry === true;
      const out = await update(patientId, {
        UpdateExpression:
          (accountId ? 'SET #lease = :lease, accountId = if_not_exists(accountId, :account)' : 'SET #lease = :lease') + (withTry ? ' ADD version :one, tries :one' : ' ADD version :one'),
        ConditionExpression:
          'linkId = :link AND #status = :pending AND tokenHash = :hash AND expiresAt > :now AND failures < :max' +
          ' AND (attribute_not_exists(#lease) OR #lease.#until < :now)' +
          (withTry ? ' AND (attribute_not_exists(tries) OR tries < :max)' : ''),
        ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease', '#until': 'until' },
        ExpressionAttributeValues: {
          ':lease': lease,
          ...(accountId ? { ':account': accountId } : {}),
          ':one': 1,
          ':link': linkId,
          ':pending': 'Pending',
          ':hash': tokenHash,
          ':now': now.toISOString(),
          ':max': max,
        },
        ReturnValues: 'ALL_NEW',
      });
      if (out) return { kind: 'taken', state: toState<D>(out) };
      // Why not: still this pending link with a live lease (or, reserving, every try in flight) means another request holds it.
      const current = await get(patientId);
      const ours = current?.linkId === linkId && current.status === 'Pending' && current.tokenHash === tokenHash;
      const leased = current?.lease !== undefined && current.lease.until >= now.toISOString();
      const triesInFlight = withTry && current !== undefined && current.expiresAt > now.toISOString() && current.failures < max && (current.tries ?? 0) >= max;
      const held = ours && (leased || triesInFlight);
      return held ? { kind: 'held' } : { kind: 'gone' };
    },

    async releaseLease(patientId, leaseId, options) {
      await update(patientId, {
        UpdateExpression: options?.returnTry ? 'REMOVE #lease ADD version :one, tries :minus' : 'REMOVE #lease ADD version :one',
        ConditionExpression: '#lease.id = :lease',
        ExpressionAttributeNames: { '#lease': 'lease' },
        ExpressionAttributeValues: { ':lease': leaseId, ':one': 1, ...(options?.returnTry ? { ':minus': -1 } : {}) },
      });
    },

    async complete(change) {
      const { next } = change.record;
      const { accountId, patientId } = next;
      if (!accountId) throw new Error('complete needs a record with an accountId');
      const items: NamedItems = {
        record: { Put: { TableName: table, Item: recordItem(next), ...versionCondition(change.record.expectedVersion) } },
        state: {
          Put: {
            TableName: table,
            Item: { ...change.state, ...keys.state(patientId) },
            // Still the pending link this request leased, behind this very token, not expired, for this login.
            ConditionExpression: 'linkId = :link AND #status = :pending AND tokenHash = :hash AND #lease.id = :lease AND expiresAt > :now AND accountId = :me',
            ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease' },
            ExpressionAttributeValues: {
              ':link': change.state.linkId,
              ':pending': 'Pending',
              ':hash': change.tokenHash,
              ':lease': change.leaseId,
              ':now': change.audit.at,
              ':me': accountId,
            },
          },
        },
        deletePointer: { Delete: { TableName: table, Key: keys.pointer(change.tokenHash) } },
        ...(change.linkAccount ? { account: linkAccountItem(table, accountId, patientId) } : {}),
        ...(change.usernames ? { claim: claimUsernameItem(table, change.usernames.claim, accountId, patientId) } : {}),
        ...(change.usernames?.release ? { release: releaseUsernameItem(table, change.usernames.release, accountId) } : {}),
        // Sign-in counters cleared with the commit (a reset is the way out of a lock, rule 5): no call of their own.
        ...Object.fromEntries([...new Set(change.clearThrottle ?? [])].map((key, i) => [`clear${i}`, { Delete: { TableName: table, Key: accountItemKey(key) } }])),
        audit: auditPut(change.audit),
      };
      try {
        await transactWrite(db, items);
      } catch (err) {
        if (conditionFailed(err, 'state') || conditionFailed(err, 'account')) throw policy.errors.gone();
        if (conditionFailed(err, 'claim')) throw usernameTaken();
        if (conditionFailed(err, 'record')) throw versionConflict();
        throw err;
      }
    },
  };
}
