/**
 * Invitations are one-time links (dynamo-links.ts) in the invitation key space
 * (INVITE#<patientId>/INVITATION, INVITELINK#<sha256(token)>/LINK): `dynamoInvitationLinks()`.
 *
 * The rest of this file is the LEGACY invitation store, down to the reads, the lease and the
 * final registration transaction that the email-match method still uses over its own keys
 * (dynamo-email-match.ts). It goes once email-match has its own link policy (branch
 * resets-match, issue 14). No-argument `dynamoInvitations()` is only what adapters/deps.ts still
 * names; the invitation handlers use `dynamoInvitationLinks()`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { versionConflict } from '../domain/errors.ts';
import {
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
