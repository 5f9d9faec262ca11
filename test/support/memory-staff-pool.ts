/**
 * The staff user pool as AWS documents it, behind aws-sdk-client-mock: logins by name
 * (case-insensitive, like the real pool with signInCaseSensitive false), groups, enabled, MFA,
 * temporary passwords. With `failOn` a test makes one command fail, to check that an operation
 * stopped half-way completes on a retry.
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
  CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersInGroupCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';

export interface FakeLogin {
  username: string;
  sub: string;
  email: string;
  enabled: boolean;
  status: 'FORCE_CHANGE_PASSWORD' | 'CONFIRMED';
  password: string;
  groups: Set<string>;
  mfa: boolean;
  signedOutAt?: number;
  created: Date;
}

const cognitoError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: {} });

export function memoryStaffPool() {
  const idp = mockClient(CognitoIdentityProviderClient);
  const logins = new Map<string, FakeLogin>();
  let subs = 0;
  const failures = new Map<Function, number>();

  const find = (name: string) => logins.get(name.toLowerCase());
  const must = (name: string) => {
    const l = find(name);
    if (!l) throw cognitoError('UserNotFoundException', 'User does not exist.');
    return l;
  };
  const failIfAsked = (command: Function) => {
    const left = failures.get(command);
    if (left) {
      failures.set(command, left - 1);
      throw cognitoError('InternalErrorException', 'injected failure');
    }
  };
  const asUser = (l: FakeLogin) => ({
    Username: l.username,
    Enabled: l.enabled,
    UserStatus: l.status,
    UserCreateDate: l.created,
    Attributes: [
      { Name: 'sub', Value: l.sub },
      { Name: 'email', Value: l.email },
    ],
  });
  const on = <C extends Function>(command: C, fake: (input: any) => unknown) =>
    idp.on(command as never).callsFake(async (input: unknown) => {
      failIfAsked(command);
      return fake(input);
    });

  const install = () => {
    on(AdminCreateUserCommand, (input) => {
      if (find(input.Username)) throw cognitoError('UsernameExistsException', 'User account already exists');
      const email = input.UserAttributes.find((a: { Name: string }) => a.Name === 'email').Value;
      const l: FakeLogin = {
        username: input.Username,
        sub: `sub-${input.Username}-${++subs}`,
        email,
        enabled: true,
        status: 'FORCE_CHANGE_PASSWORD',
        password: input.TemporaryPassword,
        groups: new Set(),
        mfa: false,
        created: new Date('2026-11-20T09:00:00.000Z'),
      };
      logins.set(l.username.toLowerCase(), l);
      return { User: asUser(l) };
    });
    on(AdminGetUserCommand, (input) => {
      const l = must(input.Username);
      const { Attributes, ...rest } = asUser(l);
      return { ...rest, UserAttributes: Attributes, UserMFASettingList: l.mfa ? ['SOFTWARE_TOKEN_MFA'] : [] };
    });
    on(ListUsersCommand, () => ({ Users: [...logins.values()].map(asUser) }));
    on(ListUsersInGroupCommand, (input) => ({ Users: [...logins.values()].filter((l) => l.groups.has(input.GroupName)).map(asUser) }));
    on(AdminListGroupsForUserCommand, (input) => ({ Groups: [...must(input.Username).groups].map((GroupName) => ({ GroupName })) }));
    on(AdminAddUserToGroupCommand, (input) => void must(input.Username).groups.add(input.GroupName));
    on(AdminRemoveUserFromGroupCommand, (input) => void must(input.Username).groups.delete(input.GroupName));
    on(AdminEnableUserCommand, (input) => void (must(input.Username).enabled = true));
    on(AdminDisableUserCommand, (input) => void (must(input.Username).enabled = false));
    on(AdminUserGlobalSignOutCommand, (input) => void (must(input.Username).signedOutAt = Date.now()));
    on(AdminSetUserPasswordCommand, (input) => {
      const l = must(input.Username);
      l.password = input.Password;
      l.status = input.Permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD';
    });
    on(AdminSetUserMFAPreferenceCommand, (input) => void must(input.Username));
    on(AdminDeleteSoftwareTokenCommand, (input) => void (must(input.Username).mfa = false));
  };
  install();

  return {
    idp,
    logins,
    find,
    /** A login as the local stack seeds or a console makes it. */
    add(username: string, group: 'admin' | 'staff', change: Partial<FakeLogin> = {}): FakeLogin {
      const l: FakeLogin = {
        username,
        sub: `sub-${username}`,
        email: `${username}@example.test`,
        enabled: true,
        status: 'CONFIRMED',
        password: 'x',
        groups: new Set([group]),
        mfa: true,
        created: new Date('2026-11-01T09:00:00.000Z'),
        ...change,
      };
      logins.set(username.toLowerCase(), l);
      return l;
    },
    /** The next `times` calls of `command` fail with an InternalErrorException. */
    failOn(command: Function, times = 1) {
      failures.set(command, times);
    },
    reset() {
      idp.reset();
      logins.clear();
      failures.clear();
      install();
    },
  };
}
