/** The patient user pool, behind the PatientLogins port. Cognito's username is the accountId. */
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  RevokeTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { config } from '../config.ts';
import { isPasswordRefusal, passwordRefusedByPool } from '../domain/password-policy.ts';
import type { PatientLogins } from '../domain/ports.ts';
import { cognito } from './clients.ts';
import { signInResult, throwIfRefusal } from './staff-directory.ts';

const named = (err: unknown, ...names: string[]) => err instanceof Error && names.includes(err.name);

export function cognitoPatientLogins(): PatientLogins {
  const c = config();
  const client = cognito();
  const pool = { UserPoolId: c.PATIENT_POOL_ID };

  // Rule 31: a password Cognito's policy refuses (our rules should have caught it) is the caller's
  // 400, not a 500; the login keeps its old password.
  const setPassword = async (accountId: string, password: string) => {
    try {
      await client.send(new AdminSetUserPasswordCommand({ ...pool, Username: accountId, Password: password, Permanent: true }));
    } catch (err) {
      if (named(err, 'InvalidPasswordException')) throw passwordRefusedByPool();
      throw err;
    }
  };

  return {
    async upsert(accountId, password) {
      let created = true;
      try {
        await client.send(new AdminCreateUserCommand({ ...pool, Username: accountId, MessageAction: 'SUPPRESS' }));
      } catch (err) {
        if (!named(err, 'UsernameExistsException')) throw err;
        created = false;
      }
      try {
        await setPassword(accountId, password);
      } catch (err) {
        // A login just made for a refused password would be a login without a record: remove it.
        if (created && isPasswordRefusal(err)) await client.send(new AdminDeleteUserCommand({ ...pool, Username: accountId })).catch(() => undefined);
        throw err;
      }
      return { created };
    },

    setPassword,

    async signIn(accountId, password, context) {
      try {
        // Server-side flow (rule 34): the patient client allows no flow anyone could call
        // directly; only functions granted `patientPool:signIn` can sign a patient in. The
        // caller's context goes to threat protection (issue 13 item 13), with only the harmless
        // headers callerContext() kept.
        const out = await client.send(
          new AdminInitiateAuthCommand({
            ...pool,
            AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
            ClientId: c.PATIENT_CLIENT_ID,
            AuthParameters: { USERNAME: accountId, PASSWORD: password },
            ...(context
              ? {
                  ContextData: {
                    IpAddress: context.sourceIp,
                    ServerName: context.serverName,
                    ServerPath: context.serverPath,
                    HttpHeaders: Object.entries(context.headers).map(([headerName, headerValue]) => ({ headerName, headerValue })),
                  },
                }
              : {}),
          }),
        );
        return signInResult(out);
      } catch (err) {
        throwIfRefusal(err);
        throw err;
      }
    },

    async signOutEverywhere(accountId) {
      try {
        await client.send(new AdminUserGlobalSignOutCommand({ ...pool, Username: accountId }));
      } catch (err) {
        // cognito-local answers Unsupported; the record's generation (rule 17) refuses older tokens anyway.
        if (named(err, 'UserNotFoundException') || /Unsupported/i.test(err instanceof Error ? `${err.name} ${err.message}` : '')) return;
        throw err;
      }
    },

    async revokeRefreshToken(refreshToken) {
      await client.send(new RevokeTokenCommand({ ClientId: c.PATIENT_CLIENT_ID, Token: refreshToken }));
    },

    async setEnabled(accountId, enabled) {
      const command = enabled
        ? new AdminEnableUserCommand({ ...pool, Username: accountId })
        : new AdminDisableUserCommand({ ...pool, Username: accountId });
      await client.send(command);
    },

    async remove(accountId) {
      try {
        await client.send(new AdminDeleteUserCommand({ ...pool, Username: accountId }));
      } catch (err) {
        if (!named(err, 'UserNotFoundException')) throw err;
      }
    },
  };
}
