/**
 * Email-match links in the records table (lambdas/domain/email-match.ts): the one-time link
 * adapter (dynamo-links.ts) with the email-match policy, in a key space of its own:
 *   EMAILMATCH#<patientId> / STATE        the record's current link: token hash, expiry, the
 *                                         address's hash, lease and accountId of a confirmation
 *   EMAILMATCHLINK#<sha256(token)> / LINK a live pointer: patientId, linkId, expiresAt, ttl
 * Issuing a link is one transaction that touches only these items and the audit table (the
 * route's grant, emailMatch:issue, allows nothing else), so the public request can never write a
 * record. Plus the byEmail lookup of the request.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { emailMatchPolicy, type EmailMatchStore } from '../domain/email-match.ts';
import { dynamo } from './clients.ts';
import { dynamoLinks } from './dynamo-links.ts';
import { toRecord } from './dynamo-store.ts';

/** More records than this on one address is already "several": the domain only tells one from many. */
const MAX_MATCHES = 5;

export function dynamoEmailMatch(): EmailMatchStore {
  const table = config().RECORDS_TABLE;
  const db = dynamo();
  return {
    ...dynamoLinks(emailMatchPolicy),

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
  };
}
