/**
 * Cognito pre-token-generation trigger (V2) on both pools.
 *
 * 1. Rule 3: access tokens issued for USER_PASSWORD_AUTH carry the scope
 *    `aws.cognito.signin.user.admin`, which lets their holder call Cognito directly —
 *    ChangePassword (skipping our password rules), DeleteUser (a record left pointing at no
 *    login), UpdateUserAttributes. Every credential change must go through our routes, so that
 *    scope is removed from every access token.
 *
 * 2. Rule 17: the revocation rule (lambdas/domain/portal-record.ts). A patient's access token
 *    carries the generation of the patient's record at the moment Cognito mints it, in the claim
 *    `portal_generation`, read here from the records table (ACCOUNT#<accountId> → PATIENT#<id>);
 *    every patient route accepts the token only while that is still exactly the record's
 *    generation (lambdas/http/patient-auth.ts). Who can make Cognito mint a patient token:
 *      - a password sign-in: only ADMIN_USER_PASSWORD_AUTH is allowed on the patient client, which
 *        needs IAM credentials only our sign-in functions hold (rule 34);
 *      - a refresh (REFRESH_TOKEN_AUTH / GetTokensFromRefreshToken), by anyone holding a refresh
 *        token, directly at Cognito (the client has no secret) and with ClientMetadata of their
 *        choosing. A refresh proves nothing about when the session began, so a refreshed token
 *        gets NO generation and is refused by every patient route (the pages never refresh).
 *    The value comes from our table only, never from the request (ClientMetadata, which a caller
 *    of GetTokensFromRefreshToken controls and AdminInitiateAuth does not even pass here) nor from
 *    user attributes, so no caller can choose it. Staff tokens have no ACCOUNT# item: no claim.
 *
 * The same function serves both pools (one role, read-only on the records table); its only
 * environment is RECORDS_TABLE (and DYNAMODB_ENDPOINT locally), since the pools' ids would make
 * a dependency cycle with the pools that name it.
 *
 * Locally, cognito-local runs no V2 trigger on access tokens (../shared/emulators.md); the local
 * stack applies this very handler to the patient client's tokens (lib/local/cognito-tokens.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

export const suppressedScopes = ['aws.cognito.signin.user.admin'] as const;

/** The access-token claim that carries the record's generation (compared exactly by patient-auth.ts). */
export const generationClaim = 'portal_generation';

/** Sources whose token follows a credential check our sign-in made; refreshes are not among them. */
const signInSources = new Set(['TokenGeneration_Authentication', 'TokenGeneration_NewPasswordChallenge']);

export interface PreTokenGenerationV2Event {
  version?: string;
  triggerSource?: string;
  userName?: string;
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
}

/** Reads an item of the records table by key; the Lambda's is DynamoDB, a test's a map. */
export type ReadItem = (key: { pk: string; sk: string }) => Promise<Record<string, unknown> | undefined>;

let documentClient: DynamoDBDocumentClient | undefined;

const dynamoRead: ReadItem = async (key) => {
  const table = process.env.RECORDS_TABLE;
  if (!table) throw new Error('configuration: RECORDS_TABLE is not set');
  documentClient ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
      ...(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}),
    }),
  );
  return (await documentClient.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
};

/**
 * The generation of the record whose login `accountId` is, or undefined (no such login: a staff
 * user, or a record that no longer names this login). The same keys as dynamo-accounts.ts and
 * dynamo-store.ts; spelled out here so the trigger bundles no configuration of the API's.
 */
export async function generationOfLogin(read: ReadItem, accountId: string): Promise<number | undefined> {
  const link = await read({ pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT' });
  // A proxy's login with no record of its own keeps its generation on this item (issue 18).
  if (link?.proxyOnly === true && link.accountId === accountId && link.patientId === undefined) return typeof link.generation === 'number' ? link.generation : 0;
  if (typeof link?.patientId !== 'string') return undefined;
  const record = await read({ pk: `PATIENT#${link.patientId}`, sk: 'RECORD' });
  if (!record || record.accountId !== accountId) return undefined;
  return typeof record.linkGeneration === 'number' ? record.linkGeneration : 0;
}

export function makeHandler(read: ReadItem) {
  return async <E extends PreTokenGenerationV2Event>(event: E): Promise<E> => {
    const generation =
      event.userName && signInSources.has(event.triggerSource ?? '') ? await generationOfLogin(read, event.userName) : undefined;
    event.response = {
      claimsAndScopeOverrideDetails: {
        accessTokenGeneration: {
          scopesToSuppress: [...suppressedScopes],
          ...(generation !== undefined ? { claimsToAddOrOverride: { [generationClaim]: generation } } : {}),
        },
      },
    };
    return event;
  };
}

export const handler = makeHandler(dynamoRead);
