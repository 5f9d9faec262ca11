/**
 * Proxy grants and the login side of the records a login reaches, in the records table
 * (lambdas/domain/proxies.ts; keys documented in lib/data/tables.ts):
 *   PATIENT#<patientId> / PROXY#<proxyId>    a grant: name, email, relationship, scope, until,
 *                                            status, accountId, times, version
 *   ACCOUNT#<accountId> / RECORD#<patientId> the login's side of an accepted grant: proxyId, role, until
 *   ACCOUNT#<accountId> / ACCOUNT            the login (dynamo-accounts.ts); a proxy-only login's
 *                                            names no patientId and carries username, generation
 *   USERNAME#<name> / USERNAME               a proxy-only login's name: accountId, no patientId
 *   PROXYINVITE#<patientId>#<proxyId> / STATE, PROXYLINK#<sha256(token)> / LINK
 *                                            the invitation's one-time link (dynamo-links.ts, kind "proxy")
 * Every change is one TransactWriteItems with named items (transactions.ts) and the audit entry.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { versionConflict } from '../domain/errors.ts';
import type { LinkState } from '../domain/one-time-link.ts';
import {
  alreadyReaches,
  auditForSubject,
  proxyLinkGone,
  proxyLinkPolicy,
  type LoginItem,
  type LoginReach,
  type ProxyGrant,
  type ProxyLinkData,
  type ProxyStore,
} from '../domain/proxies.ts';
import { dynamo } from './clients.ts';
import { accountKey, releaseUsernameItem, usernameKey, usernameTaken } from './dynamo-accounts.ts';
import { dynamoLinks, linkKeys } from './dynamo-links.ts';
import { auditItem, recordItem, versionCondition } from './dynamo-store.ts';
import { conditionFailed, transactWrite, type NamedItems } from './transactions.ts';

export const grantKey = (patientId: string, proxyId: string) => ({ pk: `PATIENT#${patientId}`, sk: `PROXY#${proxyId}` });
export const reachKey = (accountId: string, patientId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `RECORD#${patientId}` });

type Item = Record<string, unknown>;
const strip = <T>(item: Item): T => {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
};

export function dynamoProxies(options: { db?: Pick<DynamoDBDocumentClient, 'send'>; table?: string; auditTable?: string } = {}): ProxyStore {
  const db = options.db ?? dynamo();
  const table = options.table ?? config().RECORDS_TABLE;
  const auditTable = options.auditTable ?? config().AUDIT_TABLE;
  const base = dynamoLinks<ProxyLinkData>(proxyLinkPolicy, { db, table, auditTable });
  const keys = linkKeys(proxyLinkPolicy.kind);
  const auditPut = (audit: Parameters<typeof auditItem>[0]) => ({ Put: { TableName: auditTable, Item: auditItem(audit), ConditionExpression: 'attribute_not_exists(pk)' } });
  const get = async (key: { pk: string; sk: string }) => (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  const query = async (pk: string, prefix: string): Promise<Item[]> => {
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  };
  const statePut = (state: LinkState<ProxyLinkData>, expectedVersion: number) => ({
    Put: { TableName: table, Item: { ...state, ...keys.state(state.patientId) }, ...versionCondition(expectedVersion) },
  });
  const pointerDelete = (tokenHash: string) => ({ Delete: { TableName: table, Key: keys.pointer(tokenHash) } });

  return {
    async grant(patientId, proxyId) {
      const item = await get(grantKey(patientId, proxyId));
      return item ? strip<ProxyGrant>(item) : undefined;
    },
    async grants(patientId) {
      return (await query(`PATIENT#${patientId}`, 'PROXY#')).map((i) => strip<ProxyGrant>(i));
    },
    async reach(accountId, patientId) {
      const item = await get(reachKey(accountId, patientId));
      return item ? strip<LoginReach>(item) : undefined;
    },
    async reaches(accountId) {
      return (await query(`ACCOUNT#${accountId}`, 'RECORD#')).map((i) => strip<LoginReach>(i));
    },
    async login(accountId) {
      const item = await get(accountKey(accountId));
      if (!item) return undefined;
      return {
        accountId: String(item.accountId),
        ...(typeof item.patientId === 'string' ? { patientId: item.patientId } : {}),
        ...(typeof item.username === 'string' ? { username: item.username } : {}),
        ...(typeof item.generation === 'number' ? { generation: item.generation } : {}),
      } satisfies LoginItem;
    },

    async saveLogin(change) {
      const { accountId, username, expectedGeneration } = change;
      const release = change.release && change.release.toLowerCase() !== username.toLowerCase() ? change.release : undefined;
      try {
        await transactWrite(db, {
          account: {
            Put: {
              TableName: table,
              Item: { ...accountKey(accountId), accountId, username, generation: expectedGeneration + 1, proxyOnly: true },
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(patientId) AND generation = :generation',
              ExpressionAttributeValues: { ':generation': expectedGeneration },
            },
          },
          claim: { Put: { TableName: table, Item: { ...usernameKey(username), accountId }, ConditionExpression: 'attribute_not_exists(pk) OR accountId = :me', ExpressionAttributeValues: { ':me': accountId } } },
          ...(release ? { release: releaseUsernameItem(table, release, accountId) } : {}),
          audit: auditPut(change.audit),
        });
      } catch (err) {
        if (conditionFailed(err, 'account')) throw versionConflict();
        if (conditionFailed(err, 'claim')) throw usernameTaken();
        throw err;
      }
    },

    async invite(change) {
      const { grant, link, replaces } = change;
      const items: NamedItems = {
        grant: { Put: { TableName: table, Item: { ...grant, ...grantKey(grant.patientId, grant.proxyId) }, ConditionExpression: 'attribute_not_exists(pk)' } },
        state: statePut(link.state.next, link.state.expectedVersion),
        putPointer: {
          Put: {
            TableName: table,
            Item: {
              ...keys.pointer(link.putPointer!.tokenHash),
              patientId: link.putPointer!.patientId,
              linkId: link.putPointer!.linkId,
              expiresAt: link.putPointer!.expiresAt,
              ttl: Math.floor(Date.parse(link.putPointer!.expiresAt) / 1000) + 24 * 60 * 60,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...(replaces
          ? {
              replaced: { Put: { TableName: table, Item: { ...replaces.grant, ...grantKey(replaces.grant.patientId, replaces.grant.proxyId) }, ...versionCondition(replaces.expectedVersion) } },
              ...(replaces.link ? { replacedState: statePut(replaces.link.state, replaces.link.expectedVersion) } : {}),
              ...(replaces.link?.deletePointer ? { replacedPointer: pointerDelete(replaces.link.deletePointer) } : {}),
            }
          : {}),
        audit: auditPut(change.audit),
      };
      try {
        await transactWrite(db, items);
      } catch (err) {
        if (conditionFailed(err, 'replaced') || conditionFailed(err, 'replacedState') || conditionFailed(err, 'grant') || conditionFailed(err, 'state')) throw versionConflict();
        throw err;
      }
    },

    async end(change) {
      const { grant } = change;
      const reach = grant.accountId ? await get(reachKey(grant.accountId, grant.patientId)) : undefined;
      const items: NamedItems = {
        grant: { Put: { TableName: table, Item: { ...grant, ...grantKey(grant.patientId, grant.proxyId) }, ...versionCondition(change.expectedVersion) } },
        ...(change.link ? { state: statePut(change.link.state, change.link.expectedVersion) } : {}),
        ...(change.link?.deletePointer ? { deletePointer: pointerDelete(change.link.deletePointer) } : {}),
        // The login's side goes with it, when it is this grant's (a later grant may have taken the place).
        ...(reach && reach.proxyId === grant.proxyId
          ? {
              reach: {
                Delete: {
                  TableName: table,
                  Key: reachKey(grant.accountId!, grant.patientId),
                  ConditionExpression: 'attribute_not_exists(pk) OR proxyId = :proxy',
                  ExpressionAttributeValues: { ':proxy': grant.proxyId },
                },
              },
            }
          : {}),
        audit: auditPut(change.audit),
      };
      try {
        await transactWrite(db, items);
      } catch (err) {
        if (conditionFailed(err, 'grant') || conditionFailed(err, 'state') || conditionFailed(err, 'reach')) throw proxyLinkPolicy.errors.conflict();
        throw err;
      }
    },

    async markDelivery(patientId, proxyId, delivery) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: grantKey(patientId, proxyId),
            UpdateExpression: 'SET delivery = :d',
            ConditionExpression: '#status = :invited',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':d': delivery, ':invited': 'Invited' },
          }),
        );
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    },

    links: {
      ...base,
      // Wrong-PIN counting and locking file their audit entry under the link's subject: the patient's trail, naming the proxy.
      write: (change) => base.write({ ...change, audit: auditForSubject(change.audit) }),

      // Unlike the shared adapter, the accountId is SET at every lease: an attempt with an existing
      // login fixes that login; a new-login attempt passes the one to reuse (domain/proxies.ts).
      async takeLease(subject, linkId, tokenHash, lease, accountId, now) {
        try {
          const out = await db.send(
            new UpdateCommand({
              TableName: table,
              Key: keys.state(subject),
              UpdateExpression: accountId ? 'SET #lease = :lease, accountId = :account ADD version :one' : 'SET #lease = :lease ADD version :one',
              ConditionExpression:
                'linkId = :link AND #status = :pending AND tokenHash = :hash AND expiresAt > :now AND failures < :max' +
                ' AND (attribute_not_exists(#lease) OR #lease.#until < :now)',
              ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease', '#until': 'until' },
              ExpressionAttributeValues: {
                ':lease': lease,
                ...(accountId ? { ':account': accountId } : {}),
                ':one': 1,
                ':link': linkId,
                ':pending': 'Pending',
                ':hash': tokenHash,
                ':now': now.toISOString(),
                ':max': proxyLinkPolicy.maxFailures,
              },
              ReturnValues: 'ALL_NEW',
            }),
          );
          return { kind: 'taken', state: strip<LinkState<ProxyLinkData>>(out.Attributes ?? {}) };
        } catch (err) {
          if (!(err instanceof ConditionalCheckFailedException)) throw err;
        }
        const current = await base.get(subject);
        const held =
          current?.linkId === linkId && current.status === 'Pending' && current.tokenHash === tokenHash && current.lease !== undefined && current.lease.until >= now.toISOString();
        return held ? { kind: 'held' } : { kind: 'gone' };
      },

      async complete(change) {
        const { state } = change;
        const accountId = state.accountId;
        const proxyId = state.data?.proxyId;
        if (!accountId || !proxyId) throw new Error('a proxy acceptance needs the leased accountId and the proxyId');
        const patientId = change.record.next.patientId;
        const until = state.data?.until;
        const role = change.record.next.accountId === accountId ? 'self' : 'proxy';
        const at = change.audit.at;
        const items: NamedItems = {
          record: { Put: { TableName: table, Item: recordItem(change.record.next), ...versionCondition(change.record.expectedVersion) } },
          state: {
            Put: {
              TableName: table,
              Item: { ...state, ...keys.state(state.patientId) },
              ConditionExpression: 'linkId = :link AND #status = :pending AND tokenHash = :hash AND #lease.id = :lease AND expiresAt > :now AND accountId = :me',
              ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease' },
              ExpressionAttributeValues: { ':link': state.linkId, ':pending': 'Pending', ':hash': change.tokenHash, ':lease': change.leaseId, ':now': at, ':me': accountId },
            },
          },
          deletePointer: pointerDelete(change.tokenHash),
          grant: {
            Update: {
              TableName: table,
              Key: grantKey(patientId, proxyId),
              UpdateExpression: 'SET #status = :active, accountId = :me, acceptedAt = :at REMOVE expiresAt ADD version :one',
              ConditionExpression: '#status = :invited',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':active': 'Active', ':me': accountId, ':at': at, ':one': 1, ':invited': 'Invited' },
            },
          },
          reach: {
            Put: {
              TableName: table,
              Item: { ...reachKey(accountId, patientId), accountId, patientId, proxyId, role, ...(until ? { until } : {}) },
              // A login reaches a record once: a place taken by a grant whose `until` passed may be taken again.
              ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now',
              ExpressionAttributeNames: { '#until': 'until' },
              ExpressionAttributeValues: { ':now': at },
            },
          },
          ...(change.linkAccount && change.usernames
            ? {
                account: {
                  Put: {
                    TableName: table,
                    Item: { ...accountKey(accountId), accountId, username: change.usernames.claim, generation: 0, proxyOnly: true },
                    ConditionExpression: 'attribute_not_exists(pk)',
                  },
                },
                claim: {
                  Put: {
                    TableName: table,
                    Item: { ...usernameKey(change.usernames.claim), accountId },
                    ConditionExpression: 'attribute_not_exists(pk) OR accountId = :me',
                    ExpressionAttributeValues: { ':me': accountId },
                  },
                },
              }
            : {}),
          audit: auditPut(change.audit),
        };
        try {
          await transactWrite(db, items);
        } catch (err) {
          if (conditionFailed(err, 'state') || conditionFailed(err, 'grant') || conditionFailed(err, 'account')) throw proxyLinkGone();
          if (conditionFailed(err, 'claim')) throw usernameTaken();
          if (conditionFailed(err, 'reach')) throw alreadyReaches();
          if (conditionFailed(err, 'record')) throw versionConflict();
          throw err;
        }
      },
    },
  };
}
