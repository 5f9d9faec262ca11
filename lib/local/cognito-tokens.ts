/**
 * AWS's V2 pre-token-generation trigger, played for the patient app client in front of
 * cognito-local (which runs triggers only as V1 and applies them to ID tokens only, see
 * ../shared/emulators.md). Every answer of cognito-local that carries patient tokens goes through
 * our real trigger (lambdas/triggers/pre-token-generation.ts) with the V2 event AWS would send
 * (the trigger source of the flow, the login's username); its `accessTokenGeneration` answer
 * (claims added, scopes suppressed) is applied to the access token, which is signed again with
 * cognito-local's own key and key id, so the handlers verify it against the same JWKS. So, locally
 * as in AWS, a patient token carries its record's generation (rule 17) only when it came from a
 * password sign-in, never from a refresh, and never the admin scope (rule 3).
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Which trigger source AWS sends for the call that produced the tokens, or undefined for calls that produce none. */
export function triggerSourceOf(target: string, input: Record<string, unknown>): string | undefined {
  if (target === 'AdminInitiateAuth' || target === 'InitiateAuth') {
    const flow = String(input.AuthFlow ?? '');
    return flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN' ? 'TokenGeneration_RefreshTokens' : 'TokenGeneration_Authentication';
  }
  if (target === 'GetTokensFromRefreshToken') return 'TokenGeneration_RefreshTokens';
  if (target === 'RespondToAuthChallenge' || target === 'AdminRespondToAuthChallenge') {
    return input.ChallengeName === 'NEW_PASSWORD_REQUIRED' ? 'TokenGeneration_NewPasswordChallenge' : 'TokenGeneration_Authentication';
  }
  return undefined;
}

interface AccessTokenGeneration {
  claimsToAddOrOverride?: Record<string, unknown>;
  claimsToSuppress?: string[];
  scopesToSuppress?: string[];
  scopesToAdd?: string[];
}

type Trigger = (event: Record<string, unknown>) => Promise<{ response?: Record<string, unknown> }>;

let signingKey: KeyObject | undefined;
const cognitoLocalKey = (): KeyObject => {
  if (!signingKey) {
    const dir = dirname(createRequire(import.meta.url).resolve('cognito-local/package.json'));
    const file = JSON.parse(readFileSync(join(dir, 'lib/keys/cognitoLocal.private.json'), 'utf8')) as { jwk: Record<string, string> };
    signingKey = createPrivateKey({ key: file.jwk, format: 'jwk' });
  }
  return signingKey;
};

const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Claims Cognito never lets a trigger change. */
const reserved = new Set(['acr', 'amr', 'at_hash', 'aud', 'auth_time', 'azp', 'c_hash', 'exp', 'iat', 'iss', 'jti', 'nbf', 'nonce', 'origin_jti', 'sub', 'token_use', 'client_id', 'event_id', 'username', 'scope']);

/** The access token with the trigger's answer applied, signed again with cognito-local's key. */
export function applyAccessTokenGeneration(accessToken: string, change: AccessTokenGeneration | undefined, sign = cognitoLocalKey): string {
  const [header, payload] = accessToken.split('.');
  if (!header || !payload || !change) return accessToken;
  const claims = decode(payload);
  for (const name of change.claimsToSuppress ?? []) if (!reserved.has(name)) delete claims[name];
  for (const [name, value] of Object.entries(change.claimsToAddOrOverride ?? {})) if (!reserved.has(name) && !name.startsWith('cognito:')) claims[name] = value;
  const suppress = new Set(change.scopesToSuppress ?? []);
  const scopes = [...String(claims.scope ?? '').split(' ').filter((s) => s && !suppress.has(s)), ...(change.scopesToAdd ?? [])];
  if (scopes.length > 0) claims.scope = scopes.join(' ');
  else delete claims.scope;
  const body = `${header}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(body).sign(sign()).toString('base64url');
  return `${body}.${signature}`;
}

/** Runs `trigger` as Cognito would for an answer carrying tokens, and answers with the access token it shapes. */
export async function withTokenTrigger(
  answer: Record<string, unknown>,
  source: string,
  context: { userPoolId?: string; clientId?: string },
  trigger: Trigger,
): Promise<Record<string, unknown>> {
  const tokens = answer.AuthenticationResult as Record<string, unknown> | undefined;
  const accessToken = tokens?.AccessToken;
  if (typeof accessToken !== 'string') return answer;
  const claims = decode(accessToken.split('.')[1] ?? '');
  const event = {
    version: '2',
    triggerSource: source,
    region: 'local',
    userPoolId: context.userPoolId ?? String(claims.iss ?? '').split('/').pop(),
    userName: String(claims.username ?? ''),
    callerContext: { awsSdkVersion: 'local', clientId: context.clientId ?? String(claims.client_id ?? '') },
    request: { userAttributes: {}, groupConfiguration: {}, scopes: String(claims.scope ?? '').split(' ').filter(Boolean) },
    response: { claimsAndScopeOverrideDetails: null },
  };
  const out = await trigger(event);
  const details = out.response?.claimsAndScopeOverrideDetails as { accessTokenGeneration?: AccessTokenGeneration } | null | undefined;
  return { ...answer, AuthenticationResult: { ...tokens, AccessToken: applyAccessTokenGeneration(accessToken, details?.accessTokenGeneration) } };
}
