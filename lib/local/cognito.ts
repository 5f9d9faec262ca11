/**
 * cognito-local and what the stack needs in it: the `patients` and `staff` user pools, one app
 * client each, the staff groups and the two seeded staff logins. Everything is found again on a
 * restart (by id from the last stack.json, else by name) rather than created twice.
 */
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolCommand,
  GetGroupCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
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
  return {
    staffUserPoolId,
    staffClientId: await ensureClient(client, staffUserPoolId, 'staff-web'),
    patientUserPoolId,
    patientClientId: await ensureClient(client, patientUserPoolId, 'patient-web'),
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

async function ensureClient(client: CognitoIdentityProviderClient, poolId: string, name: string): Promise<string> {
  const { UserPoolClients = [] } = await client.send(
    new ListUserPoolClientsCommand({ UserPoolId: poolId, MaxResults: 60 }),
  );
  const found = UserPoolClients.find((c) => c.ClientName === name)?.ClientId;
  if (found) return found;
  const created = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: poolId,
      ClientName: name,
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
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
}

/** Creates the user if missing; sets the (permanent) password and the group every time. */
export async function ensureStaffUser(client: CognitoIdentityProviderClient, poolId: string, user: SeedUser): Promise<void> {
  const exists = await client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: user.username })).then(
    () => true,
    () => false,
  );
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
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`cognito-local returned no id for ${what}`);
  return value;
}
