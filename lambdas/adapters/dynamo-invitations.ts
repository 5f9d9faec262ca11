/**
 * Invitations are one-time links (dynamo-links.ts) in the invitation key space:
 * `dynamoInvitationLinks()`. The rest of this file is the LEGACY invitation store, kept only for
 * the email-match method (dynamo-email-match.ts passes its own keys) until that method has its
 * own link policy (branch resets-match, issue 14); then it goes. Legacy layout:
 *   INVITE#<patientId> / INVITATION      the current invitation: token hash, sealed PIN,
 *                                        wrong-PIN counter, lease and accountId of a
 *                                        registration in progress, its own version
 *   INVITELINK#<sha256(token)> / LINK    a live link: patientId, invitationId, expiresAt
 * Every change is one TransactWriteItems with the record (conditional on the version read) and
 * the audit entry, except the atomic wrong-PIN counter and the registration lease, which touch
 * the invitation item alone. Links carry `ttl`; every read checks expiry itself as well,
 * because DynamoDB Local never expires items.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { versionConflict } from '../domain/errors.ts';
import {
  invitationConflict,
  invitationLinks,
  type InvitationLinks,
  MAX_PIN_FAILURES,
  type InvitationLink,
  type InvitationStore,
  type StoredInvitation,
} from '../domain/invitations.ts';
import { linkGone } from '../domain/registration.ts';
import { dynamo } from './clients.ts';
import { claimUsernameItem, linkAccountItem, usernameTaken } from './dynamo-accounts.ts';
import { dynamoLinks } from './dynamo-links.ts';
import { auditItem, recordItem, versionCondition } from './dynamo-store.ts';
import { conditionFailed, transactWrite } from './transactions.ts';

/** The invitations: one-time links under the invitation policy. */
export const dynamoInvitationLinks = (): InvitationLinks => dynamoLinks(invitationLinks);

export const invitationKey = (patientId: string) => ({ pk: `INVITE#${patientId}`, sk: 'INVITATION' });
export const linkKey = (tokenHash: string) => ({ pk: `INVITELINK#${tokenHash}`, sk: 'LINK' });

/** Links outlive their expiry by a day in the table (TTL), then DynamoDB removes them. */
const linkTtl = (expiresAt: string) => Math.floor(Date.parse(expiresAt) / 1000) + 24 * 60 * 60;

function toInvitation(item: Record<string, unknown>): StoredInvitation {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as StoredInvitation;
}

/** Where the two items live; the email-match method keeps its links in a key space of its own (dynamo-email-match.ts). */
export interface InvitationKeys {
  invitation: typeof invitationKey;
  link: typeof linkKey;
}

export function dynamoInvitations(keys: InvitationKeys = { invitation: invitationKey, link: linkKey }): InvitationStore {
  const { RECORDS_TABLE: table, AUDIT_TABLE: auditTable } = config();
  const { invitation: invitationKey, link: linkKey } = keys;
  const db = dynamo();

  const invitationCondition = (expectedVersion: number) =>
    expectedVersion === 0
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } };

  const getInvitation = async (patientId: string) => {
    const item = (await db.send(new GetCommand({ TableName: table, Key: invitationKey(patientId), ConsistentRead: true }))).Item;
    return item ? toInvitation(item) : undefined;
  };

  return {
    getInvitation,

    async findLink(tokenHash) {
      const item = (await db.send(new GetCommand({ TableName: table, Key: linkKey(tokenHash), ConsistentRead: true }))).Item;
      if (!item) return undefined;
      const link: InvitationLink = {
        tokenHash,
        patientId: String(item.patientId),
        invitationId: String(item.invitationId),
        expiresAt: String(item.expiresAt),
      };
      return link;
    },

    async commit(change) {
      try {
        await transactWrite(db, {
          record: { Put: { TableName: table, Item: recordItem(change.record.next), ...versionCondition(change.record.expectedVersion) } },
          invitation: {
            Put: {
              TableName: table,
              Item: { ...change.invitation.next, ...invitationKey(change.invitation.next.patientId) },
              ...invitationCondition(change.invitation.expectedVersion),
            },
          },
          audit: { Put: { TableName: auditTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } },
          ...(change.putLink
            ? {
                putLink: {
                  Put: {
                    TableName: table,
                    Item: {
                      ...linkKey(change.putLink.tokenHash),
                      patientId: change.putLink.patientId,
                      invitationId: change.putLink.invitationId,
                      expiresAt: change.putLink.expiresAt,
                      ttl: linkTtl(change.putLink.expiresAt),
                    },
                    ConditionExpression: 'attribute_not_exists(pk)',
                  },
                },
              }
            : {}),
          ...(change.deleteLink ? { deleteLink: { Delete: { TableName: table, Key: linkKey(change.deleteLink) } } } : {}),
        });
      } catch (err) {
        // The invitation first: two staff inviting at once both fail on it, and that is a 409.
        if (conditionFailed(err, 'invitation')) throw invitationConflict();
        if (conditionFailed(err, 'record')) throw versionConflict();
        throw err;
      }
    },

    async countPinFailure(patientId, invitationId) {
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: table,
            Key: invitationKey(patientId),
            UpdateExpression: 'ADD pinFailures :one, version :one',
            ConditionExpression: 'invitationId = :inv AND #status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':one': 1, ':inv': invitationId, ':pending': 'Pending' },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return Number(out.Attributes?.pinFailures);
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return undefined;
        throw err;
      }
    },

    async reservePinTry(patientId, invitationId) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: invitationKey(patientId),
            UpdateExpression: 'ADD pinTries :one',
            ConditionExpression: 'invitationId = :inv AND #status = :pending AND (attribute_not_exists(pinTries) OR pinTries < :max)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':one': 1, ':inv': invitationId, ':pending': 'Pending', ':max': MAX_PIN_FAILURES },
          }),
        );
        return 'reserved';
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      const current = await getInvitation(patientId);
      const live = current?.invitationId === invitationId && current.status === 'Pending' && current.pinFailures < MAX_PIN_FAILURES;
      return live ? 'busy' : 'gone';
    },

    async releasePinTry(patientId, invitationId) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: invitationKey(patientId),
            UpdateExpression: 'ADD pinTries :minus',
            ConditionExpression: 'invitationId = :inv AND pinTries > :zero',
            ExpressionAttributeValues: { ':minus': -1, ':inv': invitationId, ':zero': 0 },
          }),
        );
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    },

    async takeLease(patientId, invitationId, tokenHash, lease, accountId, now) {
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: table,
            Key: invitationKey(patientId),
            UpdateExpression: 'SET #lease = :lease, accountId = if_not_exists(accountId, :account) ADD version :one',
            ConditionExpression:
              'invitationId = :inv AND #status = :pending AND tokenHash = :hash AND expiresAt > :now AND pinFailures < :max' +
              ' AND (attribute_not_exists(#lease) OR #lease.#until < :now)',
            ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease', '#until': 'until' },
            ExpressionAttributeValues: {
              ':lease': lease,
              ':account': accountId,
              ':one': 1,
              ':inv': invitationId,
              ':pending': 'Pending',
              ':hash': tokenHash,
              ':now': now.toISOString(),
              ':max': MAX_PIN_FAILURES,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { kind: 'taken', invitation: toInvitation(out.Attributes ?? {}) };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      // Why not: still this pending invitation with a live lease means another request holds it.
      const current = await getInvitation(patientId);
      const held =
        current?.invitationId === invitationId &&
        current.status === 'Pending' &&
        current.tokenHash === tokenHash &&
        current.lease !== undefined &&
        current.lease.until >= now.toISOString();
      return held ? { kind: 'held' } : { kind: 'gone' };
    },

    async releaseLease(patientId, leaseId) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: invitationKey(patientId),
            UpdateExpression: 'REMOVE #lease ADD version :one',
            ConditionExpression: '#lease.id = :lease',
            ExpressionAttributeNames: { '#lease': 'lease' },
            ExpressionAttributeValues: { ':lease': leaseId, ':one': 1 },
          }),
        );
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    },

    async completeRegistration(change) {
      const { next } = change.record;
      const { accountId, patientId } = next;
      if (!accountId) throw new Error('completeRegistration needs a record with an accountId');
      try {
        await transactWrite(db, {
          record: { Put: { TableName: table, Item: recordItem(next), ...versionCondition(change.record.expectedVersion) } },
          invitation: {
            Put: {
              TableName: table,
              Item: { ...change.invitation, ...invitationKey(patientId) },
              // Still the pending invitation this request leased, behind this very link, not expired.
              ConditionExpression:
                'invitationId = :inv AND #status = :pending AND tokenHash = :hash AND #lease.id = :lease AND expiresAt > :now AND accountId = :me',
              ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease' },
              ExpressionAttributeValues: {
                ':inv': change.invitation.invitationId,
                ':pending': 'Pending',
                ':hash': change.tokenHash,
                ':lease': change.leaseId,
                ':now': change.audit.at,
                ':me': accountId,
              },
            },
          },
          deleteLink: { Delete: { TableName: table, Key: linkKey(change.tokenHash) } },
          account: linkAccountItem(table, accountId, patientId),
          username: claimUsernameItem(table, change.username, accountId, patientId),
          audit: { Put: { TableName: auditTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } },
        });
      } catch (err) {
        if (conditionFailed(err, 'invitation') || conditionFailed(err, 'account')) throw linkGone();
        if (conditionFailed(err, 'username')) throw usernameTaken();
        if (conditionFailed(err, 'record')) throw versionConflict();
        throw err;
      }
    },
  };
}
