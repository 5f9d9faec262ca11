/**
 * AWS SDK clients, made once per cold start and shared by every request. Endpoints are
 * overridable so the same code talks to the local emulators.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import { retryMiddleware, retryMiddlewareOptions } from './dynamo-retry.ts';

let documentClient: DynamoDBDocumentClient | undefined;
let cognitoClient: CognitoIdentityProviderClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  if (!documentClient) {
    const c = config();
    // One attempt per pass through the stack: every retry of every DynamoDB call is decided in
    // dynamo-retry.ts (rule 35), on this client's stack, which the document client shares.
    const base = new DynamoDBClient({ region: c.AWS_REGION, maxAttempts: 1, ...(c.DYNAMODB_ENDPOINT ? { endpoint: c.DYNAMODB_ENDPOINT } : {}) });
    base.middlewareStack.add(retryMiddleware() as never, retryMiddlewareOptions);
    documentClient = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
  }
  return documentClient;
}

export function cognito(): CognitoIdentityProviderClient {
  if (!cognitoClient) {
    const c = config();
    cognitoClient = new CognitoIdentityProviderClient({
      region: c.AWS_REGION,
      ...(c.COGNITO_ENDPOINT ? { endpoint: c.COGNITO_ENDPOINT } : {}),
    });
  }
  return cognitoClient;
}
