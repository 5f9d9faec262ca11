/** The staff user pool, behind the StaffDirectory port. */
import {
  AdminGetUserCommand,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import type { SignInResult, StaffDirectory } from '../domain/ports.ts';
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

/** Tokens or a challenge, from an InitiateAuth answer. */
export function signInResult(out: InitiateAuthCommandOutput): SignInResult {
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
  if (out.ChallengeName && out.Session) return { kind: 'challenge', challenge: out.ChallengeName, session: out.Session };
  throw new Error('sign-in answered neither tokens nor a challenge');
}

export function cognitoStaffDirectory(): StaffDirectory {
  const c = config();
  const client = cognito();
  return {
    async signIn(username, password) {
      try {
        const out = await client.send(
          new InitiateAuthCommand({
            AuthFlow: 'USER_PASSWORD_AUTH',
            ClientId: c.STAFF_CLIENT_ID,
            AuthParameters: { USERNAME: username, PASSWORD: password },
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
