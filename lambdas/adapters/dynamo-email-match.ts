/**
 * Email-match links in the records table (lambdas/domain/email-match.ts):
 *   EMAILMATCH#<patientId> / STATE        the record's current link: token hash, expiry, the
 *                                         address's hash, lease and accountId of a confirmation
 *   EMAILMATCHLINK#<sha256(token)> / LINK a live link: patientId, invitationId, expiresAt, ttl
 * The lease and the final commit (record + state + link + account + username + audit in one
 * transaction) are the invitation adapter's own code over these keys; issuing a link is one
 * transaction of its own that touches only these items and the audit table (the route's grant,
 * emailMatch:issue, allows nothing else), so the public request can never write a record.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import type { EmailMatchState, EmailMatchStore } from '../domain/email-match.ts';
import { invitationConflict } from '../domain/invitations.ts';
import { dynamo } from './clients.ts';
import { dynamoInvitations } from './dynamo-invitations.ts';
import { auditItem, toRecord } from './dynamo-store.ts';
import { conditionFailed, transactWrite } from './transactions.ts';

export const emailMatchStateKey = (patientId: string) => ({ pk: `EMAILMATCH#${patientId}`, sk: 'STATE' });
export const emailMatchLinkKey = (tokenHash: string) => ({ pk: `EMAILMATCHLINK#${tokenHash}`, sk: 'LINK' });

/** Links stay a day past their expiry, then TTL removes them (reads check expiry themselves). */
const ttlOf = (expiresAt: string) => Math.floor(Date.parse(expiresAt) / 1000) + 24 * 60 * 60;

/** More records than this on one address is already "several": the domain only tells one from many. */
const MAX_MATCHES = 5;

export function dynamoEmailMatch(): EmailMatchStore {
  const { RECORDS_TABLE: table, AUDIT_TABLE: auditTable } = config();
  const db = dynamo();
  const leases = dynamoInvitations({ invitation: emailMatchStateKey, link: emailMatchLinkKey });

  return {
    getState: async (patientId) => (await leases.getInvitation(patientId)) as EmailMatchState | undefined,
    findLink: leases.findLink,
    takeLease: leases.takeLease,
    releaseLease: leases.releaseLease,
    completeRegistration: leases.completeRegistration,

    async recordsByEmail(email) {
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'byEmail',
          KeyConditionExpression: 'emailKey = :email',
          ExpressionAttributeValues: { ':email': email.toLowerCase() },
          Limit: MAX_MATCHES,
        }),
      );
      return (out.Items ?? []).map(toRecord);
    },

    async issue(change) {
      const { next, expectedVersion } = change.state;
      try {
        await transactWrite(db, {
          state: {
            Put: {
              TableName: table,
              // No ttl: the state keeps the accountId of an unfinished confirmation for the next one.
              Item: { ...next, ...emailMatchStateKey(next.patientId) },
              ...(expectedVersion === 0
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } }),
            },
          },
          newLink: {
            Put: {
              TableName: table,
              Item: {
                ...emailMatchLinkKey(change.putLink.tokenHash),
                patientId: change.putLink.patientId,
                invitationId: change.putLink.invitationId,
                expiresAt: change.putLink.expiresAt,
                ttl: ttlOf(change.putLink.expiresAt),
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          audit: { Put: { TableName: auditTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } },
          ...(change.deleteLink ? { oldLink: { Delete: { TableName: table, Key: emailMatchLinkKey(change.deleteLink) } } } : {}),
        });
      } catch (err) {
        if (conditionFailed(err, 'state')) throw invitationConflict();
        throw err;
      }
    },
  };
}
