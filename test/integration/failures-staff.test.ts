/**
 * Security rules 24 and 35 for staff sign-in's TOTP step and staff administration: the TOTP
 * answer, a new staff login, disable / enable, and the MFA reset, each with every backend call
 * failing in turn (support/fail-nth.ts) and the table made busy (support/busy-flows.ts).
 * Half state here means:
 *   - TOTP answer: tokens handed out for a login whose record refuses them, or a failed answer
 *     that leaves the user unable to sign in again (the retry with the next code must work);
 *   - new login: a login with a record but no temporary password anyone was told (see the
 *     lost-answer limit below), or a record without a login;
 *   - disable / enable: a staff record that lets the user in while the pool login is disabled
 *     ("out rather than in": the record is written first when disabling, last when enabling);
 *   - MFA reset: the old token still accepted once the reset was answered.
 *
 * Each run uses a staff user of its own, made through the API (not counted): a TOTP code
 * cannot be offered twice for one user within two minutes (rule 30), so a shared user would
 * make every run wait for the next 30-second step.
 */
import { randomUUID } from 'node:crypto';
import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { beforeAll, describe, expect } from 'vitest';
import { staffClientSecret } from '../../lambdas/adapters/staff-directory.ts';
import type { Answer } from '../support/events.ts';
import { defineFlowTests, event, freshAddress, handlerOf, invoke, item, staffSessions, useInProcessHandlers } from './support/failure-flows.ts';
import { api, cognito, stack } from './support/stack.ts';
import { firstSignIn, TOTP_STEP_MS, totpCode } from './support/staff-session.ts';

useInProcessHandlers();

const newPassword = 'a staff member chose this long password';
const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** The login as the staff pool holds it (read directly, not counted). */
async function poolLogin(username: string): Promise<{ exists: boolean; enabled?: boolean; sub?: string }> {
  try {
    const out = await cognito().send(new AdminGetUserCommand({ UserPoolId: stack().staffUserPoolId, Username: username }));
    return { exists: true, enabled: out.Enabled !== false, sub: out.UserAttributes?.find((a) => a.Name === 'sub')?.Value };
  } catch (err) {
    if (err instanceof Error && err.name === 'UserNotFoundException') return { exists: false };
    throw err;
  }
}

/** The staff record of a login (STAFF#<sub>), read directly. */
async function staffRecord(username: string): Promise<Record<string, any> | undefined> {
  const login = await poolLogin(username);
  return login.sub ? item(`STAFF#${login.sub}`, 'STAFF') : undefined;
}

/** POST /staff through the local API (not counted): a login with its record and temporary password. */
async function madeByAdmin(prefix: string) {
  const { admin } = await staffSessions();
  const username = uniqueName(prefix);
  const made = await api('/staff', { method: 'POST', token: admin, body: { username, email: `${username}@example.test`, role: 'staff' } });
  expect(made.status).toBe(201);
  return { username, temporaryPassword: made.json.temporaryPassword as string };
}

/** A staff user who signed in once: own password, TOTP enrolled. `usedSteps` holds the steps whose codes were offered. */
async function enrolled(prefix: string) {
  const made = await madeByAdmin(prefix);
  const before = Math.floor(Date.now() / TOTP_STEP_MS);
  const first = await firstSignIn(made.username, made.temporaryPassword, newPassword);
  const after = Math.floor(Date.now() / TOTP_STEP_MS);
  return { username: made.username, secret: first.secret, token: first.tokens.accessToken, usedSteps: new Set([before, after]) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A code this user has not offered yet that the pool accepts now (cognito-local and Cognito take
 * the step before and after the current one too): the current step's, the next one's, the one
 * before; waits for the next step when all three were used. The step before is taken only with
 * time to spare: once the current step ends it is two steps old and refused, which made a retry
 * sent in a step's last second fail with 401 (CI, 2026-11-30).
 */
const LAST_STEP_SPARE_MS = 10_000;
async function unusedCode(s: { secret: string; usedSteps: Set<number> }): Promise<string> {
  for (;;) {
    const at = Date.now();
    const now = Math.floor(at / TOTP_STEP_MS);
    const previousStillSafe = (now + 1) * TOTP_STEP_MS - at > LAST_STEP_SPARE_MS;
    const step = [now, now + 1, ...(previousStillSafe ? [now - 1] : [])].find((x) => !s.usedSteps.has(x));
    if (step !== undefined) {
      s.usedSteps.add(step);
      return totpCode(s.secret, step * TOTP_STEP_MS + 1000);
    }
    await sleep((now + 1) * TOTP_STEP_MS - Date.now() + 50);
  }
}

async function adminEvent(method: string, resource: string, staffId: string | undefined, sourceIp: string, body?: unknown) {
  const { admin } = await staffSessions();
  return event({
    method,
    resource,
    path: staffId ? resource.replace('{staffId}', staffId) : resource,
    sourceIp,
    token: admin,
    ...(staffId ? { pathParameters: { staffId } } : {}),
    ...(body !== undefined ? { body } : {}),
  });
}

describe('staff TOTP answer: POST /staff/sessions/challenge (SOFTWARE_TOKEN_MFA)', () => {
  type S = Awaited<ReturnType<typeof enrolled>> & { sourceIp: string };
  let challenge: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    challenge = await handlerOf(() => import('../../lambdas/handlers/staff-sign-in/challenge.ts'));
    // A warm function: the staff app client's secret (which seals challenge sessions) is read
    // once per cold start, with DescribeUserPoolClient, so it is not part of the flow's calls.
    await staffClientSecret();
  });

  defineFlowTests<S>({
    name: 'staff TOTP answer',
    route: 'staff-sign-in-challenge',
    calls: [
      'DynamoDB GetItem', // throttle: the user's wrong-code counter (totp:<username>)
      'DynamoDB GetItem', // throttle: address
      'DynamoDB UpdateItem', // the try reserved first (rule 5)
      'DynamoDB GetItem', // has this code been offered for this user in the last two minutes? (rule 30)
      'DynamoDB GetItem', // (its address key)
      'DynamoDB UpdateItem', // the code marked as offered
      'Cognito RespondToAuthChallenge',
      'DynamoDB DeleteItem', // the user's wrong-code counter cleared
      'DynamoDB GetItem', // the staff record: tokens only for an enabled login (rule 30)
      'DynamoDB PutItem', // audit
    ],
    ok: 200,
    setup: async () => ({ ...(await enrolled('f24-totp')), sourceIp: freshAddress() }),
    // Each attempt is what the console does after any failure: the password again (through the
    // local API, not counted), then the next code. A TOTP answer is never sent twice: a code
    // offered once is refused for two minutes (rule 30), and the pool's session is used up.
    async send(s) {
      const first = await api('/staff/sessions', { method: 'POST', body: { username: s.username, password: newPassword } });
      expect(first.json?.challenge, JSON.stringify(first.json)).toBe('SOFTWARE_TOKEN_MFA');
      const code = await unusedCode(s);
      return invoke(
        challenge,
        event({ method: 'POST', resource: '/staff/sessions/challenge', path: '/staff/sessions/challenge', sourceIp: s.sourceIp, body: { session: first.json.session, challenge: 'SOFTWARE_TOKEN_MFA', code } }),
      );
    },
    async noHalfState(s, answer) {
      // Tokens only when the record lets them be used; a failed answer leaves the user as they were.
      const record = await staffRecord(s.username);
      expect(record?.enabled).toBe(true);
      if (answer.status === 200) expect((await api('/staff/me', { token: answer.json.accessToken })).status).toBe(200);
      else expect(answer.json.accessToken).toBeUndefined();
    },
    async outcome(s, success) {
      const me = await api('/staff/me', { token: success.json.accessToken });
      return { me: me.status, username: me.json.username === s.username, refresh: typeof success.json.refreshToken === 'string' };
    },
  });
});

describe('new staff login: POST /staff', () => {
  type S = { username: string; email: string; sourceIp: string };
  let create: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    create = await handlerOf(() => import('../../lambdas/handlers/staff-admin/create.ts'));
  });

  defineFlowTests<S>({
    name: 'new staff login',
    route: 'staff-create',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'Cognito AdminCreateUser',
      'Cognito AdminAddUserToGroup',
      'Cognito AdminRemoveUserFromGroup', // out of the other role's group
      'DynamoDB TransactWriteItems', // staff record + audit
    ],
    ok: 201,
    setup: async () => {
      const username = uniqueName('f24-new');
      return { username, email: `${username}@example.test`, sourceIp: freshAddress() };
    },
    send: async (s) => invoke(create, await adminEvent('POST', '/staff', undefined, s.sourceIp, { username: s.username, email: s.email, role: 'staff' })),
    async noHalfState(s, answer) {
      const login = await poolLogin(s.username);
      const record = login.sub ? await item(`STAFF#${login.sub}`, 'STAFF') : undefined;
      if (answer.status === 201) {
        expect(record?.enabled).toBe(true);
        // The password answered is the login's: it signs in (to the new-password step).
        const first = await api('/staff/sessions', { method: 'POST', body: { username: s.username, password: answer.json.temporaryPassword } });
        expect(first.json?.challenge).toBe('NEW_PASSWORD_REQUIRED');
      } else if (record) {
        expect.fail('a staff record was written for a request that failed: its temporary password reached no one');
      }
    },
    lostAnswerLimits: {
      5: {
        consequence:
          'the login and its record are made but the temporary password was in the lost answer: the retry is refused (409 username-taken) and nothing issues a new temporary password (reported)',
        async check(s) {
          expect((await staffRecord(s.username))?.enabled).toBe(true);
          const retry = await invoke(create, await adminEvent('POST', '/staff', undefined, s.sourceIp, { username: s.username, email: s.email, role: 'staff' }));
          expect(retry).toMatchObject({ status: 409, json: { type: expect.stringMatching(/username-taken$/) } });
        },
      },
    },
    async outcome(s, success) {
      const record = await staffRecord(s.username);
      const list = await api('/staff', { token: (await staffSessions()).admin });
      return {
        username: success.json.username === s.username,
        record: { enabled: record?.enabled, roles: record?.roles, version: record?.version },
        listed: (list.json.items as { username: string; enabled: boolean; roles: string[] }[])
          .filter((u) => u.username === s.username)
          .map((u) => ({ enabled: u.enabled, roles: u.roles })),
      };
    },
  });
});

/** Whatever the answer: the record never lets in a user whose pool login is disabled. */
async function expectOutRatherThanIn(username: string): Promise<void> {
  const login = await poolLogin(username);
  const record = await staffRecord(username);
  if (record?.enabled) expect(login.enabled, 'the record lets in a user whose login is disabled').toBe(true);
}

describe('disable / enable: PUT /staff/{staffId}', () => {
  type S = Awaited<ReturnType<typeof enrolled>> & { sourceIp: string };
  let update: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    update = await handlerOf(() => import('../../lambdas/handlers/staff-admin/update.ts'));
  });

  defineFlowTests<S>({
    name: 'disable staff user',
    route: 'staff-update',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'Cognito AdminGetUser', // the login the path names
      'DynamoDB GetItem', // its staff record
      'DynamoDB TransactWriteItems', // record disabled + session cut-off + audit: first, so a failure after it leaves the user out
      'Cognito AdminDisableUser',
      'Cognito AdminUserGlobalSignOut', // (cognito-local refuses it as unsupported, which is ignored; the cut-off holds)
    ],
    ok: 200,
    setup: async () => ({ ...(await enrolled('f24-off')), sourceIp: freshAddress() }),
    send: async (s) => invoke(update, await adminEvent('PUT', '/staff/{staffId}', s.username, s.sourceIp, { enabled: false })),
    async noHalfState(s, answer) {
      await expectOutRatherThanIn(s.username);
      if (answer.status === 200) {
        expect((await api('/staff/me', { token: s.token })).status).toBe(401);
        expect((await poolLogin(s.username)).enabled).toBe(false);
      }
    },
    async outcome(s, success) {
      return {
        answer: { enabled: success.json.enabled, username: success.json.username === s.username },
        record: (await staffRecord(s.username))?.enabled,
        login: (await poolLogin(s.username)).enabled,
        oldToken: (await api('/staff/me', { token: s.token })).status,
      };
    },
  });

  defineFlowTests<S>({
    name: 'enable staff user',
    route: 'staff-update',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'Cognito AdminGetUser', // the login the path names
      'Cognito AdminEnableUser', // the login first, the record last: a failure between leaves the user out
      'DynamoDB GetItem', // its staff record
      'DynamoDB TransactWriteItems', // record enabled + audit
    ],
    ok: 200,
    async setup() {
      const s = { ...(await enrolled('f24-on')), sourceIp: freshAddress() };
      const off = await api(`/staff/${s.username}`, { method: 'PUT', token: (await staffSessions()).admin, body: { enabled: false } });
      expect(off.status).toBe(200);
      return s;
    },
    send: async (s) => invoke(update, await adminEvent('PUT', '/staff/{staffId}', s.username, s.sourceIp, { enabled: true })),
    async noHalfState(s, answer) {
      await expectOutRatherThanIn(s.username);
      if (answer.status === 200) expect((await staffRecord(s.username))?.enabled).toBe(true);
    },
    async outcome(s, success) {
      return {
        answer: { enabled: success.json.enabled, username: success.json.username === s.username },
        record: (await staffRecord(s.username))?.enabled,
        login: (await poolLogin(s.username)).enabled,
        // Enabling never revives a token from before the disable (rule 30).
        oldToken: (await api('/staff/me', { token: s.token })).status,
      };
    },
  });
});

describe('MFA reset: POST /staff/{staffId}/mfa-reset', () => {
  type S = Awaited<ReturnType<typeof enrolled>> & { sourceIp: string };
  let reset: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    reset = await handlerOf(() => import('../../lambdas/handlers/staff-admin/mfa-reset.ts'));
  });

  defineFlowTests<S>({
    name: 'staff MFA reset',
    route: 'staff-mfa-reset',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'Cognito AdminGetUser', // the login the path names
      'DynamoDB GetItem', // its staff record
      'DynamoDB TransactWriteItems', // mfaResetAt + session cut-off + audit: first, so a failure after it leaves the user out
      'Cognito AdminSetUserMFAPreference', // (played by the local MFA proxy: cognito-local has neither)
      'Cognito AdminDeleteSoftwareToken', // the factor itself, so the next sign-in enrols again
      'Cognito AdminUserGlobalSignOut',
    ],
    ok: 200,
    setup: async () => ({ ...(await enrolled('f24-mfa')), sourceIp: freshAddress() }),
    send: async (s) => invoke(reset, await adminEvent('POST', '/staff/{staffId}/mfa-reset', s.username, s.sourceIp)),
    async noHalfState(s, answer: Answer) {
      const record = await staffRecord(s.username);
      // The record is written before the pool is touched: once it notes the reset, the old token is refused.
      if (record?.mfaResetAt) expect((await api('/staff/me', { token: s.token })).status).toBe(401);
      if (answer.status === 200) {
        expect(record?.mfaResetAt).toEqual(expect.any(String));
        expect((await api('/staff/me', { token: s.token })).status).toBe(401);
      }
      expect(record?.enabled).toBe(true);
    },
    async outcome(s, success) {
      return {
        answer: { mfaEnrolled: success.json.mfaEnrolled, enabled: success.json.enabled },
        reset: typeof (await staffRecord(s.username))?.mfaResetAt,
        nextSignIn: (await api('/staff/sessions', { method: 'POST', body: { username: s.username, password: newPassword } })).json.challenge,
        oldToken: (await api('/staff/me', { token: s.token })).status,
      };
    },
  });
});
