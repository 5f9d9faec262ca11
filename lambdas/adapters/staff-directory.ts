/**
 * The staff user pool, behind the StaffDirectory and StaffChallenges ports.
 *
 * Rule 34: the staff app client has a secret, so nobody can sign in to Cognito directly around
 * our throttles. The secret is read once per cold start with DescribeUserPoolClient (grant
 * `staffPool:signIn`) and kept in memory only: never in the environment, the template or a log.
 * Every call that names a user sends SECRET_HASH = base64(HMAC-SHA256(secret, username + clientId)).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import {
  AdminGetUserCommand,
  AssociateSoftwareTokenCommand,
  type ChallengeNameType,
  DescribeUserPoolClientCommand,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
  RespondToAuthChallengeCommand,
  UserNotFoundException,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import type { CallerContext, SignInResult, StaffChallenges, StaffChallengeResult, StaffDirectory } from '../domain/ports.ts';
import { cognito } from './clients.ts';

/**
 * Cognito's refusals that all mean "these credentials do not sign in". cognito-local answers a
 * wrong password with InvalidPasswordException where Cognito says NotAuthorizedException; an
 * unknown user must look the same as a wrong password.
 */
const refusals = new Set([
  'NotAuthorizedException',
  'UserNotFoundException',
  'InvalidPasswordException',
  'UserNotConfirmedException',
  'PasswordResetRequiredException',
]);

export const invalidCredentials = () =>
  new DomainError('unauthorized', 'invalid-credentials', 'The username or password is not right.');

/** Any refusal of the password becomes the one invalid-credentials error. */
export function throwIfRefusal(err: unknown): void {
  if (err instanceof Error && refusals.has(err.name)) throw invalidCredentials();
}

/** Tokens or a challenge, from an InitiateAuth (or RespondToAuthChallenge) answer. */
export function signInResult(out: Pick<InitiateAuthCommandOutput, 'AuthenticationResult' | 'ChallengeName' | 'Session' | 'ChallengeParameters'>): SignInResult {
  const tokens = out.AuthenticationResult;
  if (tokens?.AccessToken && tokens.IdToken && tokens.RefreshToken) {
    return {
      kind: 'tokens',
      accessToken: tokens.AccessToken,
      idToken: tokens.IdToken,
      refreshToken: tokens.RefreshToken,
      expiresIn: tokens.ExpiresIn ?? lifetimeOf(tokens.AccessToken),
    };
  }
  if (out.ChallengeName && out.Session) {
    const username = out.ChallengeParameters?.USER_ID_FOR_SRP;
    return { kind: 'challenge', challenge: out.ChallengeName, session: out.Session, ...(username ? { username } : {}) };
  }
  throw new Error('sign-in answered neither tokens nor a challenge');
}

let secret: Promise<string> | undefined;

/** The staff app client's secret, read once per cold start (rule 34). */
export function staffClientSecret(): Promise<string> {
  if (!secret) {
    const c = config();
    secret = cognito()
      .send(new DescribeUserPoolClientCommand({ UserPoolId: c.STAFF_POOL_ID, ClientId: c.STAFF_CLIENT_ID }))
      .then((out) => {
        const value = out.UserPoolClient?.ClientSecret;
        if (!value) throw new Error('the staff app client has no client secret (rule 34: generateSecret on the staff client)');
        return value;
      });
    secret.catch(() => (secret = undefined));
  }
  return secret;
}

/** For tests that change the mocked pool between cases. */
export function forgetStaffClientSecretForTests(): void {
  secret = undefined;
}

/** Cognito's SECRET_HASH: base64(HMAC-SHA256(client secret, username + client id)). */
export function secretHash(clientSecret: string, username: string, clientId: string): string {
  return createHmac('sha256', clientSecret).update(username + clientId).digest('base64');
}

/** Cognito's refusals of a code or a session: one answer, whatever the reason. */
const codeRefusals = new Set([
  'CodeMismatchException',
  'ExpiredCodeException',
  'EnableSoftwareTokenMFAException',
  'NotAuthorizedException',
  'InvalidParameterException',
  'SoftwareTokenMFANotFoundException',
]);

export const invalidCode = () =>
  new DomainError('unauthorized', 'invalid-credentials', 'The code is not right, or this sign-in step has expired. Sign in again.');

export function cognitoStaffChallenges(): StaffChallenges {
  const c = config();
  const client = cognito();
  const hash = async (username: string) => secretHash(await staffClientSecret(), username, c.STAFF_CLIENT_ID);
  const respond = async (username: string, name: ChallengeNameType, session: string, responses: Record<string, string>, context?: CallerContext) =>
    signInResult(
      await client.send(
        new RespondToAuthChallengeCommand({
          ClientId: c.STAFF_CLIENT_ID,
          ChallengeName: name,
          Session: session,
          ChallengeResponses: { USERNAME: username, SECRET_HASH: await hash(username), ...responses },
          ...(context ? { UserContextData: { IpAddress: context.sourceIp } } : {}),
        }),
      ),
    );
  return {
    async respond(username, step, context): Promise<StaffChallengeResult> {
      try {
        if (step.challenge === 'NEW_PASSWORD_REQUIRED') {
          return await respond(username, 'NEW_PASSWORD_REQUIRED', step.session, { NEW_PASSWORD: step.newPassword }, context);
        }
        if (step.challenge === 'SOFTWARE_TOKEN_MFA') {
          return await respond(username, 'SOFTWARE_TOKEN_MFA', step.session, { SOFTWARE_TOKEN_MFA_CODE: step.code }, context);
        }
        if (!('code' in step)) {
          const out = await client.send(new AssociateSoftwareTokenCommand({ Session: step.session }));
          if (!out.SecretCode || !out.Session) throw new Error('AssociateSoftwareToken answered no secret or session');
          return { kind: 'enrol', secretCode: out.SecretCode, session: out.Session };
        }
        const verified = await client.send(new VerifySoftwareTokenCommand({ Session: step.session, UserCode: step.code }));
        if (verified.Status !== 'SUCCESS' || !verified.Session) throw invalidCode();
        return await respond(username, 'MFA_SETUP', verified.Session, {}, context);
      } catch (err) {
        if (err instanceof Error && err.name === 'InvalidPasswordException' && step.challenge === 'NEW_PASSWORD_REQUIRED') {
          // The pool's own password policy (rule 31): a 400 naming the field, never a 500.
          throw new DomainError('bad-request', 'validation-error', 'The new password cannot be used.', {
            errors: [{ path: 'body.newPassword', message: "does not meet the staff pool's password policy" }],
          });
        }
        if (err instanceof Error && codeRefusals.has(err.name)) throw invalidCode();
        throw err;
      }
    },

    async key(purpose) {
      // HKDF with a purpose label: one secret, independent keys (a sealed session's key is not
      // the audit hash's key), and neither is the SECRET_HASH key itself.
      return Buffer.from(hkdfSync('sha256', await staffClientSecret(), 'portal-access staff', purpose, 32));
    },
  };
}

export function cognitoStaffDirectory(): StaffDirectory {
  const c = config();
  const client = cognito();
  return {
    async signIn(username, password, context) {
      try {
        const out = await client.send(
          new InitiateAuthCommand({
            AuthFlow: 'USER_PASSWORD_AUTH',
            ClientId: c.STAFF_CLIENT_ID,
            AuthParameters: { USERNAME: username, PASSWORD: password, SECRET_HASH: secretHash(await staffClientSecret(), username, c.STAFF_CLIENT_ID) },
            // Threat protection scores the person's address, not the function's (issue 13 item 13);
            // the app client needs EnablePropagateAdditionalUserContextData for this.
            ...(context ? { UserContextData: { IpAddress: context.sourceIp } } : {}),
          }),
        );
        return signInResult(out);
      } catch (err) {
        throwIfRefusal(err);
        throw err;
      }
    },

    async exists(staffId) {
      try {
        await client.send(new AdminGetUserCommand({ UserPoolId: c.STAFF_POOL_ID, Username: staffId }));
        return true;
      } catch (err) {
        if (err instanceof UserNotFoundException || (err instanceof Error && err.name === 'UserNotFoundException')) return false;
        throw err;
      }
    },
  };
}

/** Seconds from issue to expiry of a token the pool just issued (cognito-local omits ExpiresIn). */
function lifetimeOf(jwt: string): number {
  try {
    const { iat, exp } = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat?: number; exp?: number };
    if (typeof iat === 'number' && typeof exp === 'number' && exp > iat) return exp - iat;
  } catch {
    // fall through to the pool's configured default
  }
  return 3600;
}
