/**
 * cognito-local and what the stack needs in it: the `patients` and `staff` user pools, one app
 * client each, the staff groups and the two seeded staff logins, enrolled in TOTP. Everything is
 * found again on a restart (by id from the last stack.json, else by name) rather than created twice.
 *
 * The staff pool has MFA `OPTIONAL` here (AWS: `ON`): cognito-local then challenges
 * `SOFTWARE_TOKEN_MFA` for every enrolled user and checks the code, and cognito-mfa.ts plays
 * AWS's `MFA_SETUP` for the others, so no staff user gets tokens without TOTP in either place.
 */
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminDeleteUserCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DeleteUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  GetGroupCommand,
  InitiateAuthCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  SetUserMFAPreferenceCommand,
  SetUserPoolMfaConfigCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { Secret, TOTP } from 'otpauth';
import { HOST } from './ports.ts';
import { localCredentials, localRegion } from './aws.ts';
import { startChild, waitUntilReady, type Child, type Launch } from './processes.ts';

export const STAFF_GROUPS = ['admin', 'staff'] as const;

export async function startCognito(launch: Launch, port: number, dir: string): Promise<Child> {
  const configDir = join(dir, '.cognito');
  await mkdir(configDir, { recursive: true });
  // UsernameAttributes [] lets usernames be plain names (the default demands email addresses);
  // IssuerDomain pins the tokens' `iss` to the URL the handlers are told about.
  const config = {
    UserPoolDefaults: { UsernameAttributes: [] },
    TokenConfig: { IssuerDomain: cognitoUrl(port) },
  };
  await writeFile(join(configDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  const bin = join(dirname(createRequire(import.meta.url).resolve('cognito-local/package.json')), 'lib/bin/start.js');
  const { NODE_OPTIONS: _ignored, DEBUG: _debug, COGNITO_LOCAL_DEVMODE: _dev, ...env } = process.env;
  // cognito-local keeps its data in ./.cognito, so its cwd is the data dir; the trailing
  // argument (ignored by cognito-local) marks the process as ours for orphan clean-up.
  const child = startChild(launch, 'cognito', process.execPath, [bin, `--local-stack=${dir}`], {
    cwd: dir,
    env: { ...env, PORT: String(port), HOST },
  });
  await waitUntilReady(child, async () => (await fetch(`${cognitoUrl(port)}/health`)).ok);
  return child;
}

export const cognitoUrl = (port: number): string => `http://${HOST}:${port}`;

export function cognitoClient(endpoint: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({ endpoint, region: localRegion, credentials: localCredentials });
}

export interface UserPools {
  staffUserPoolId: string;
  staffClientId: string;
  patientUserPoolId: string;
  patientClientId: string;
}

export async function ensureUserPools(client: CognitoIdentityProviderClient, previous?: Partial<UserPools>): Promise<UserPools> {
  const staffUserPoolId = await ensurePool(client, 'staff', previous?.staffUserPoolId);
  const patientUserPoolId = await ensurePool(client, 'patients', previous?.patientUserPoolId);
  for (const group of STAFF_GROUPS) await ensureGroup(client, staffUserPoolId, group);
  // Set on every start, so a data dir from before TOTP gets it too.
  await client.send(
    new SetUserPoolMfaConfigCommand({
      UserPoolId: staffUserPoolId,
      MfaConfiguration: 'OPTIONAL',
      SoftwareTokenMfaConfiguration: { Enabled: true },
    }),
  );
  return {
    staffUserPoolId,
    // The staff client has a secret, as in AWS (rule 34): the handlers read it with
    // DescribeUserPoolClient and send SECRET_HASH (cognito-local does not check it).
    staffClientId: await ensureClient(client, staffUserPoolId, 'staff-web', true),
    patientUserPoolId,
    patientClientId: await ensureClient(client, patientUserPoolId, 'patient-web', false),
  };
}

async function ensurePool(client: CognitoIdentityProviderClient, name: string, previousId?: string): Promise<string> {
  if (previousId) {
    const pool = await client.send(new DescribeUserPoolCommand({ UserPoolId: previousId })).catch(() => undefined);
    if (pool?.UserPool?.Name === name) return previousId;
  }
  const { UserPools = [] } = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  const found = UserPools.find((p) => p.Name === name)?.Id;
  if (found) return found;
  const created = await client.send(
    new CreateUserPoolCommand({ PoolName: name, AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } }),
  );
  return required(created.UserPool?.Id, `user pool ${name}`);
}

async function ensureClient(client: CognitoIdentityProviderClient, poolId: string, name: string, secret: boolean): Promise<string> {
  const { UserPoolClients = [] } = await client.send(
    new ListUserPoolClientsCommand({ UserPoolId: poolId, MaxResults: 60 }),
  );
  const found = UserPoolClients.find((c) => c.ClientName === name)?.ClientId;
  if (found) {
    const { UserPoolClient } = await client.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: found }));
    if (Boolean(UserPoolClient?.ClientSecret) === secret) return found;
    // A data dir from before the staff client had a secret: replace the client.
    await client.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: found }));
  }
  const created = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: poolId,
      ClientName: name,
      GenerateSecret: secret,
      // As in AWS (rule 34): staff sign in with the password flow plus SECRET_HASH, patients only
      // through the server-side flow. (cognito-local does not check the flows.)
      ExplicitAuthFlows: secret
        ? ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']
        : ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      EnableTokenRevocation: true,
      // Cognito's own defaults (cognito-local would otherwise issue 24-hour access tokens).
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      RefreshTokenValidity: 30,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
    }),
  );
  return required(created.UserPoolClient?.ClientId, `app client ${name}`);
}

async function ensureGroup(client: CognitoIdentityProviderClient, poolId: string, group: string): Promise<void> {
  // GetGroup first: Cognito answers CreateGroup for an existing group with GroupExistsException.
  const exists = await client.send(new GetGroupCommand({ UserPoolId: poolId, GroupName: group })).then(
    () => true,
    () => false,
  );
  if (!exists) await client.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
}

export interface SeedUser {
  username: string;
  password: string;
  group: (typeof STAFF_GROUPS)[number];
  /** The TOTP secret kept from an earlier start, if any. */
  totpSecret?: string;
}

/**
 * Creates the user if missing; sets the (permanent) password and the group every time; enrols
 * TOTP unless the user is enrolled with `user.totpSecret`. Answers the user's TOTP secret.
 */
export async function ensureStaffUser(
  client: CognitoIdentityProviderClient,
  pool: { poolId: string; clientId: string },
  user: SeedUser,
): Promise<string> {
  const poolId = pool.poolId;
  const found = await client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: user.username })).catch(() => undefined);
  const enrolled = found?.UserMFASettingList?.includes('SOFTWARE_TOKEN_MFA') ?? false;
  let exists = found !== undefined;
  if (exists && enrolled && !user.totpSecret) {
    // Enrolled with a secret we no longer hold (the kept file was deleted): cognito-local has no
    // admin call to clear TOTP, so the seeded login is made again.
    await client.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: user.username }));
    exists = false;
  }
  if (!exists) {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: user.username,
        MessageAction: 'SUPPRESS',
        TemporaryPassword: user.password,
        UserAttributes: [
          { Name: 'email', Value: `${user.username}@localhost.test` },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
  }
  await client.send(
    new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: user.username, Password: user.password, Permanent: true }),
  );
  await client.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: user.username, GroupName: user.group }));
  if (exists && enrolled && user.totpSecret) return user.totpSecret;
  return enrolTotp(client, pool.clientId, user);
}

/**
 * Enrols a signed-in user through the access-token path (what cognito-local supports):
 * AssociateSoftwareToken, VerifySoftwareToken with a code of the new secret, TOTP preferred.
 * Runs against cognito-local directly (not the MFA_SETUP proxy), so the not-yet-enrolled user's
 * password sign-in answers tokens under the pool's OPTIONAL MFA.
 */
async function enrolTotp(client: CognitoIdentityProviderClient, clientId: string, user: SeedUser): Promise<string> {
  const signedIn = await client.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: clientId,
      AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
    }),
  );
  const accessToken = required(signedIn.AuthenticationResult?.AccessToken, `tokens for ${user.username}`);
  const { SecretCode } = await client.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
  const secret = required(SecretCode, `TOTP secret for ${user.username}`);
  await client.send(
    new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: totpCode(secret), FriendlyDeviceName: 'seeded' }),
  );
  await client.send(
    new SetUserMFAPreferenceCommand({ AccessToken: accessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }),
  );
  return secret;
}

/** The current RFC 6238 code of a base32 secret (SHA-1, 6 digits, 30 s, as Cognito). */
export function totpCode(secret: string, at: number = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at });
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`cognito-local returned no id for ${what}`);
  return value;
}
