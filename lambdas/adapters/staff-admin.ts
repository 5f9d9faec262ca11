/**
 * The staff user pool for staff administration (the StaffPool port of
 * lambdas/domain/staff-admin.ts). Grant `staffPool:admin` (lib/stack/grants.ts); GET
 * /staff/{staffId}/permissions uses `find` only, under `staffPool:read` (AdminGetUser).
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteSoftwareTokenCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminSetUserMFAPreferenceCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { config } from '../config.ts';
import type { PoolUser, StaffPool } from '../domain/staff-admin.ts';
import type { StaffRole } from '../schemas/staff-admin.ts';
import { cognito } from './clients.ts';

const roles: readonly StaffRole[] = ['admin', 'staff'];

const named = (err: unknown, ...names: string[]) => err instanceof Error && names.includes(err.name);
/** cognito-local answers `CognitoLocal#Unsupported` for what it does not implement (see ../shared/emulators.md). */
const unsupportedByEmulator = (err: unknown) => err instanceof Error && /Unsupported/i.test(`${err.name} ${err.message}`);

const attribute = (attributes: AttributeType[] | undefined, name: string) => attributes?.find((a) => a.Name === name)?.Value;

function poolUser(u: {
  Username?: string;
  Attributes?: AttributeType[];
  UserAttributes?: AttributeType[];
  Enabled?: boolean;
  UserStatus?: string;
  UserCreateDate?: Date;
  UserMFASettingList?: string[];
  PreferredMfaSetting?: string;
}): PoolUser {
  const attributes = u.Attributes ?? u.UserAttributes;
  const sub = attribute(attributes, 'sub');
  if (!u.Username || !sub) throw new Error('the staff pool answered a user without a name or sub');
  const email = attribute(attributes, 'email');
  return {
    username: u.Username,
    sub,
    ...(email ? { email } : {}),
    enabled: u.Enabled ?? true,
    status: u.UserStatus ?? 'UNKNOWN',
    createdAt: (u.UserCreateDate ?? new Date(0)).toISOString(),
    mfaEnrolled: (u.UserMFASettingList ?? []).includes('SOFTWARE_TOKEN_MFA') || u.PreferredMfaSetting === 'SOFTWARE_TOKEN_MFA',
  };
}

/** Runs `work` over `items`, `width` at a time (the pool's admin calls are rate-limited per account). */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return out;
}

export function cognitoStaffPool(client: CognitoIdentityProviderClient = cognito(), poolId: string = config().STAFF_POOL_ID): StaffPool {
  const pool = { UserPoolId: poolId };

  const find = async (username: string): Promise<PoolUser | undefined> => {
    try {
      return poolUser(await client.send(new AdminGetUserCommand({ ...pool, Username: username })));
    } catch (err) {
      if (named(err, 'UserNotFoundException')) return undefined;
      throw err;
    }
  };

  return {
    find,

    async list() {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(new ListUsersCommand({ ...pool, Limit: 60, PaginationToken: token }));
        for (const u of out.Users ?? []) if (u.Username) names.push(u.Username);
        token = out.PaginationToken;
      } while (token);
      // ListUsers does not say whether TOTP is enrolled; AdminGetUser does.
      const users = await inBatches(names, 5, find);
      return users.filter((u): u is PoolUser => u !== undefined);
    },

    async rolesOf(username) {
      const out = await client.send(new AdminListGroupsForUserCommand({ ...pool, Username: username, Limit: 60 }));
      const groups = new Set((out.Groups ?? []).map((g) => g.GroupName));
      return roles.filter((r) => groups.has(r));
    },

    async members(role) {
      const names = new Set<string>();
      let token: string | undefined;
      do {
        const out = await client.send(new ListUsersInGroupCommand({ ...pool, GroupName: role, Limit: 60, NextToken: token }));
        for (const u of out.Users ?? []) if (u.Username) names.add(u.Username);
        token = out.NextToken;
      } while (token);
      return names;
    },

    async create({ username, email, temporaryPassword }) {
      try {
        const out = await client.send(
          new AdminCreateUserCommand({
            ...pool,
            Username: username,
            TemporaryPassword: temporaryPassword,
            // Answered once to the admin who made it; never emailed.
            MessageAction: 'SUPPRESS',
            UserAttributes: [
              { Name: 'email', Value: email },
              { Name: 'email_verified', Value: 'true' },
            ],
          }),
        );
        if (!out.User) throw new Error('AdminCreateUser answered no user');
        return poolUser(out.User);
      } catch (err) {
        if (named(err, 'UsernameExistsException')) return 'exists';
        throw err;
      }
    },

    async setTemporaryPassword(username, password) {
      await client.send(new AdminSetUserPasswordCommand({ ...pool, Username: username, Password: password, Permanent: false }));
    },

    async setRole(username, role) {
      await client.send(new AdminAddUserToGroupCommand({ ...pool, Username: username, GroupName: role }));
      for (const other of roles.filter((r) => r !== role)) {
        await client.send(new AdminRemoveUserFromGroupCommand({ ...pool, Username: username, GroupName: other }));
      }
    },

    async setEnabled(username, enabled) {
      const input = { ...pool, Username: username };
      await client.send(enabled ? new AdminEnableUserCommand(input) : new AdminDisableUserCommand(input));
    },

    async signOutEverywhere(username) {
      try {
        await client.send(new AdminUserGlobalSignOutCommand({ ...pool, Username: username }));
      } catch (err) {
        // cognito-local cannot sign users out; the staff record's cut-off refuses the tokens anyway.
        if (unsupportedByEmulator(err)) return;
        throw err;
      }
    },

    async resetMfa(username) {
      try {
        await client.send(
          new AdminSetUserMFAPreferenceCommand({ ...pool, Username: username, SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false } }),
        );
        // The preference alone keeps the registered factor (Cognito's docs); deleting it is what
        // makes the next sign-in answer MFA_SETUP with the pool's MFA required.
        await client.send(new AdminDeleteSoftwareTokenCommand({ ...pool, Username: username })).catch((err: unknown) => {
          if (named(err, 'ResourceNotFoundException')) return; // no factor registered: nothing to delete
          throw err;
        });
      } catch (err) {
        // cognito-local has neither call; the record's mfaResetAt says the user must enrol again.
        if (unsupportedByEmulator(err)) return;
        throw err;
      }
    },
  };
}

let shared: StaffPool | undefined;
/** The staff pool, built once per cold start. */
export const staffPool = (): StaffPool => (shared ??= cognitoStaffPool());
