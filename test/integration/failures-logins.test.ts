/**
 * Security rule 24 for the flows that make or change a patient login: Register Patient, revoke,
 * the forced new password, the account credential change and the email-match confirmation, each
 * with every backend call failing in turn (support/fail-nth.ts). Half state here means:
 *   - a login without a record (expectNoOrphanLogins), or a record naming a login the pool does
 *     not have;
 *   - revoke: a login disabled while the record still has access on;
 *   - a password changed at Cognito while the record still accepts the sessions from before,
 *     once the flow has answered success, or a retry that cannot finish it;
 *   - new password / email-match: the one-time session or link used up without the change made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from './support/fail-nth.ts';
import {
  defineFlowTests,
  event,
  type Flow,
  expectNoOrphanLogins,
  freshAddress,
  handlerOf,
  invoke,
  item,
  login,
  newRecord,
  patientLogins,
  portalRecord,
  staffSessions,
  useInProcessHandlers,
} from './support/failure-flows.ts';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { accountThrottleKey } from '../../lambdas/domain/sign-in-throttle.ts';
import { api, claims, dynamodb, mailbox, stack } from './support/stack.ts';

useInProcessHandlers();

const chosen = 'saffron kettle meadow lantern';
const changed = 'violet harbor quartz pebble';

const signIn = (username: string, password: string) => api('/sessions', { method: 'POST', body: { username, password } });

/** Register Patient through the API: the login with a temporary password. */
async function withTemporaryPassword(prefix: string) {
  const p = await newRecord(prefix);
  const { staff } = await staffSessions();
  const res = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: staff });
  expect(res.status).toBe(201);
  const rec = await portalRecord(p.patientId);
  return { ...p, username: res.json.username as string, temporaryPassword: res.json.temporaryPassword as string, accountId: rec.accountId as string, sourceIp: freshAddress() };
}

/** A patient past the new-password step, signed in with a password of their own. */
async function signedIn(prefix: string) {
  const p = await withTemporaryPassword(prefix);
  const challenge = await signIn(p.username, p.temporaryPassword);
  expect(challenge.json.challenge).toBe('NEW_PASSWORD_REQUIRED');
  const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: chosen } });
  expect(done.status).toBe(200);
  return { ...p, accessToken: done.json.accessToken as string };
}

/** Whether the record's generation has moved on from the one `accessToken` was minted under (rule 17). */
async function cutOff(s: { patientId: string; accessToken: string }): Promise<boolean> {
  const generation = ((await item(`PATIENT#${s.patientId}`, 'RECORD'))?.linkGeneration as number | undefined) ?? 0;
  return claims(s.accessToken).portal_generation !== generation;
}

/** The notice (rule 15) went out, or its failure is on the audit trail: never lost unmarked. */
async function noticed(s: { email: string; patientId: string }): Promise<boolean> {
  return (await mailbox(s.email)).some((m) => /changed/i.test(m.subject)) || (await audited(s.patientId, 'patient.credentials-notice-failed'));
}

async function audited(patientId: string, action: string): Promise<boolean> {
  const { admin } = await staffSessions();
  const res = await api(`/patients/${patientId}/portal/audit`, { token: admin });
  expect(res.status).toBe(200);
  return (res.json.items as { action: string }[]).some((i) => i.action === action);
}

const staffEvent = async (resource: string, patientId: string, sourceIp: string) => {
  const { staff } = await staffSessions();
  return event({ method: 'POST', resource, path: resource.replace('{patientId}', patientId), pathParameters: { patientId }, token: staff, sourceIp });
};

describe('Register Patient: POST /patients/{patientId}/portal/registration', () => {
  type S = { patientId: string; email: string; sourceIp: string; before: Set<string> };
  let registerPatient: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    registerPatient = await handlerOf(() => import('../../lambdas/handlers/patient-access/register.ts'));
  });

  defineFlowTests<S>({
    name: 'Register Patient',
    route: 'register-patient',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // record
      'DynamoDB UpdateItem', // the lease: one Register Patient at a time
      'Cognito AdminCreateUser',
      'Cognito AdminSetUserPassword',
      'DynamoDB TransactWriteItems', // record, account link, username, audit
      'Cognito AdminUserGlobalSignOut',
      'DynamoDB DeleteItem', // the sign-in lock of the login cleared (issue 15)
    ],
    ok: 201,
    setup: async () => ({ ...(await newRecord('F24P')), sourceIp: freshAddress(), before: await patientLogins() }),
    send: async (s) => invoke(registerPatient, await staffEvent('/patients/{patientId}/portal/registration', s.patientId, s.sourceIp)),
    async noHalfState(s) {
      await expectNoOrphanLogins(s.before, s.patientId);
      const rec = await portalRecord(s.patientId);
      if (rec.accountId) {
        expect(rec.registration).toBe('ForcedRegistration');
        expect(await login(rec.accountId), 'the login the record names').toEqual({ exists: true, enabled: true });
        expect(await item(`ACCOUNT#${rec.accountId}`, 'ACCOUNT')).toMatchObject({ patientId: s.patientId });
      } else {
        expect(rec.registration).toBe('NotRegistered');
      }
    },
    async outcome(s, success) {
      const rec = await portalRecord(s.patientId);
      const first = await signIn(success.json.username, success.json.temporaryPassword);
      return {
        registration: rec.registration,
        statusMessage: rec.statusMessage,
        usernameIsTheRecords: rec.username === success.json.username,
        temporaryPasswordGivesTheChallenge: first.json.challenge,
        login: await login(rec.accountId),
      };
    },
  });
});

describe('clear the sign-in lock: DELETE /patients/{patientId}/portal/sign-in-lock', () => {
  type S = Awaited<ReturnType<typeof withTemporaryPassword>>;
  let unlock: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    unlock = await handlerOf(() => import('../../lambdas/handlers/patient-access/unlock.ts'));
  });
  const lockKey = (username: string) => `THROTTLE#account#${accountThrottleKey('patient', username)}`;

  defineFlowTests<S>({
    name: 'clear the sign-in lock',
    route: 'portal-sign-in-unlock',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB GetItem', // record
      'DynamoDB GetItem', // throttle: the login's counter
      'DynamoDB GetItem', // throttle: (no address here)
      'DynamoDB PutItem', // audit, before the lock goes: never a clearing without its entry
      'DynamoDB DeleteItem', // the counter
    ],
    ok: 200,
    async setup() {
      const s = await withTemporaryPassword('F24U');
      // Locked: the counter as 100 failed sign-ins leave it (written directly: 100 tries take hours of waits).
      await dynamodb().send(
        new PutItemCommand({
          TableName: stack().tableName,
          Item: { pk: { S: lockKey(s.username) }, sk: { S: 'FAILURES' }, failures: { N: '100' }, lastFailureAt: { N: String(Date.now()) } },
        }),
      );
      expect((await signIn(s.username, s.temporaryPassword)).status).toBe(429);
      return s;
    },
    send: async (s) => {
      const { staff } = await staffSessions();
      const resource = '/patients/{patientId}/portal/sign-in-lock';
      return invoke(unlock, event({ method: 'DELETE', resource, path: resource.replace('{patientId}', s.patientId), pathParameters: { patientId: s.patientId }, token: staff, sourceIp: s.sourceIp }));
    },
    async noHalfState(s) {
      // Never cleared without its audit entry.
      if (!(await item(lockKey(s.username), 'FAILURES'))) expect(await audited(s.patientId, 'patient.sign-in-lock-cleared')).toBe(true);
    },
    async outcome(s) {
      return {
        counter: await item(lockKey(s.username), 'FAILURES'),
        audited: await audited(s.patientId, 'patient.sign-in-lock-cleared'),
        signIn: (await signIn(s.username, s.temporaryPassword)).json.challenge,
      };
    },
  });
});

describe('revoke: POST /patients/{patientId}/portal/revoke', () => {
  type S = Awaited<ReturnType<typeof withTemporaryPassword>>;
  let revoke: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    revoke = await handlerOf(() => import('../../lambdas/handlers/patient-access/revoke.ts'));
  });

  defineFlowTests<S>({
    name: 'revoke',
    route: 'patient-revoke',
    calls: ['DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB TransactWriteItems', 'Cognito AdminDisableUser', 'Cognito AdminUserGlobalSignOut'],
    ok: 200,
    setup: () => withTemporaryPassword('F24V'),
    send: async (s) => invoke(revoke, await staffEvent('/patients/{patientId}/portal/revoke', s.patientId, s.sourceIp)),
    async noHalfState(s) {
      const rec = await portalRecord(s.patientId);
      const pool = await login(s.accountId);
      expect(pool.exists).toBe(true);
      // Never the login off while the record says access is on; the reverse is refused by our own checks until the retry.
      if (!pool.enabled) expect(rec.accessEnabled).toBe(false);
      if (!rec.accessEnabled) expect((await item(`PATIENT#${s.patientId}`, 'RECORD'))?.revokedAt).toBeDefined();
    },
    async outcome(s) {
      const rec = await portalRecord(s.patientId);
      return {
        accessEnabled: rec.accessEnabled,
        statusMessage: rec.statusMessage,
        login: await login(s.accountId),
        signIn: (await signIn(s.username, s.temporaryPassword)).status,
      };
    },
  });
});

describe('forced new password: POST /sessions/new-password', () => {
  type S = Awaited<ReturnType<typeof withTemporaryPassword>> & { session: string };
  let newPassword: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    newPassword = await handlerOf(() => import('../../lambdas/handlers/patient-sign-in/new-password.ts'));
  });

  defineFlowTests<S>({
    name: 'forced new password',
    route: 'patient-new-password',
    calls: [
      'DynamoDB GetItem', // the one-time session
      'DynamoDB GetItem', // record
      'Cognito AdminSetUserPassword',
      'Cognito AdminInitiateAuth', // the tokens
      'DynamoDB TransactWriteItems', // record, username, session used up, audit
      'DynamoDB GetItem', // settings: the practice notice (issue 19), which never fails the flow
    ],
    ok: 200,
    async setup() {
      const p = await withTemporaryPassword('F24F');
      const challenge = await signIn(p.username, p.temporaryPassword);
      expect(challenge.json.challenge).toBe('NEW_PASSWORD_REQUIRED');
      return { ...p, session: challenge.json.session as string };
    },
    send: (s) =>
      invoke(newPassword, event({ method: 'POST', resource: '/sessions/new-password', path: '/sessions/new-password', sourceIp: s.sourceIp, body: { session: s.session, newPassword: chosen } })),
    async noHalfState(s) {
      const rec = await portalRecord(s.patientId);
      const inRecord = await item(`PATIENT#${s.patientId}`, 'RECORD');
      const mustChange = inRecord?.login?.mustChangePassword === true;
      // The session is used up only together with the record's "must change" cleared.
      const challengeLeft = (await signIn(s.username, chosen)).status;
      if (mustChange) expect(rec.registration).toBe('ForcedRegistration');
      expect([200, 401]).toContain(challengeLeft);
    },
    // The commit was done and its answer lost: the session is used up; the patient signs in with the new password.
    alreadyDone: [{ status: 401, type: /session-expired$/ }],
    async outcome(s) {
      const inRecord = await item(`PATIENT#${s.patientId}`, 'RECORD');
      const again = await signIn(s.username, chosen);
      return {
        mustChange: inRecord?.login?.mustChangePassword ?? false,
        signInWithTheNewPassword: { status: again.status, tokens: typeof again.json.accessToken === 'string' },
        temporaryPassword: (await signIn(s.username, s.temporaryPassword)).status,
      };
    },
  });
});

describe('account credential change: PUT /account/credentials', () => {
  type S = Awaited<ReturnType<typeof signedIn>>;
  let credentials: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    credentials = await handlerOf(() => import('../../lambdas/handlers/account/credentials.ts'));
  });

  const flow: Flow<S> = {
    name: 'account credential change',
    route: 'account-credentials',
    calls: [
      'DynamoDB GetItem', // token check: account link
      'DynamoDB GetItem', // token check: record
      'DynamoDB GetItem', // record
      'DynamoDB GetItem', // throttle: account
      'DynamoDB GetItem', // throttle: address
      'DynamoDB UpdateItem', // throttle: this attempt reserved
      'Cognito AdminInitiateAuth', // the current password
      'DynamoDB DeleteItem', // throttle: reservation released
      'Cognito AdminSetUserPassword',
      'Cognito AdminUserGlobalSignOut',
      'DynamoDB GetItem', // record again
      'DynamoDB TransactWriteItems', // record's generation bumped, username, audit
      'DynamoDB GetItem', // settings, for the notice
      'SES SendEmail', // the notice (rule 15)
      'Cognito AdminInitiateAuth', // fresh tokens, minted after the bump so they carry the new generation (rule 17)
    ],
    ok: 200,
    setup: () => signedIn('F24A'),
    send: (s) =>
      invoke(
        credentials,
        event({ method: 'PUT', resource: '/account/credentials', path: '/account/credentials', token: s.accessToken, sourceIp: s.sourceIp, body: { currentPassword: chosen, newPassword: changed } }),
      ),
    async noHalfState(s, answer) {
      // Once answered 200, the sessions from before are over (rule 15, rule 17): the record's
      // generation is no longer theirs, whatever second they were signed in.
      if (answer.status === 200) expect(await cutOff(s)).toBe(true);
      expect(await login(s.accountId)).toEqual({ exists: true, enabled: true });
    },
    // The commit was done and its answer lost: the old token is refused now; the new password works.
    alreadyDone: [{ status: 401, type: /unauthorized$|invalid-token$/ }],
    // Rule 17 by design: the fresh tokens are minted after the commit that bumped the generation
    // (so they carry the new one). When that last sign-in fails, the change is done and the old
    // token is dead, so no retry with it can complete: the patient signs in with the new password.
    failedCallLimits: {
      15: {
        consequence: 'the change is done, the old token is refused, the new password signs in, the notice went out',
        async check(s) {
          expect(await cutOff(s)).toBe(true);
          expect((await api('/account', { token: s.accessToken })).status).toBe(401);
          const fresh = await signIn(s.username, changed);
          expect(fresh.status).toBe(200);
          expect((await api('/account', { token: fresh.json.accessToken })).status).toBe(200);
          expect(await noticed(s)).toBe(true);
        },
      },
    },
    async outcome(s) {
      const fresh = await signIn(s.username, changed);
      return {
        newPassword: fresh.status,
        oldPassword: (await signIn(s.username, chosen)).status,
        sessionsBeforeCutOff: await cutOff(s),
        freshToken: (await api('/account', { token: fresh.json.accessToken })).status,
        // The notice (rule 15) went out, or its failure is on the audit trail: never lost unmarked.
        notice: await noticed(s),
      };
    },
  };
  defineFlowTests<S>(flow);

  // A commit whose answer is lost ends the caller's own token (rule 17: the generation moved on), so
  // the retry gets 401 and can never be what sends the notice: it must go out anyway (rule 15).
  // Under the old whole-second cut-off this passed or failed by the clock; now it is always so.
  it('rule 15, rule 17: account credential change, call 12 (DynamoDB TransactWriteItems) answer lost → the retry is refused and the notice still goes out', async () => {
    const s = await flow.setup();
    const { result: first, calls } = await record(() => flow.send(s), 12, 'lost');
    expect(calls.find((c) => c.failed)?.command).toBe('TransactWriteItems');
    expect(first.status).toBe(500);
    const retry = await flow.send(s);
    // The old token is cut off by the change that was done: the retry cannot be what sends the notice.
    expect(retry.status).toBe(401);
    expect(await noticed(s)).toBe(true);
    expect((await signIn(s.username, changed)).status).toBe(200);
  });
});

describe('email-match confirmation: POST /registrations/email/confirm', () => {
  type S = { patientId: string; email: string; sourceIp: string; token: string; username: string; before: Set<string> };
  let confirm: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    confirm = await handlerOf(() => import('../../lambdas/handlers/email-match/confirm.ts'));
    const { admin } = await staffSessions();
    expect((await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: true } })).status).toBe(200);
  });
  afterAll(async () => {
    const { admin } = await staffSessions();
    await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: false } });
  });

  defineFlowTests<S>({
    name: 'email-match confirmation',
    route: 'email-match-confirm',
    calls: [
      'DynamoDB GetItem', // throttle: link
      'DynamoDB GetItem', // throttle: address
      'DynamoDB GetItem', // link
      'DynamoDB GetItem', // email-match state
      'DynamoDB GetItem', // record
      'DynamoDB GetItem', // username free?
      'DynamoDB UpdateItem', // lease + accountId
      'Cognito AdminCreateUser',
      'Cognito AdminSetUserPassword',
      'DynamoDB GetItem', // record again
      'DynamoDB TransactWriteItems',
      'DynamoDB GetItem', // settings: the practice notice (issue 19), which never fails the flow
    ],
    ok: 201,
    async setup() {
      const p = await newRecord('F24E');
      expect((await api('/registrations/email', { method: 'POST', body: { email: p.email } })).status).toBe(202);
      const text = (await mailbox(p.email)).at(-1)?.body.text ?? '';
      const token = /\/portal\/verify#token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
      expect(token).toBeDefined();
      return { ...p, sourceIp: freshAddress(), token: token!, username: `f24e-${p.patientId.slice(-8).toLowerCase()}`, before: await patientLogins() };
    },
    send: (s) =>
      invoke(
        confirm,
        event({ method: 'POST', resource: '/registrations/email/confirm', path: '/registrations/email/confirm', sourceIp: s.sourceIp, body: { token: s.token, username: s.username, password: chosen } }),
      ),
    async noHalfState(s) {
      await expectNoOrphanLogins(s.before, s.patientId);
      const rec = await portalRecord(s.patientId);
      const state = await item(`EMAILMATCH#${s.patientId}`, 'STATE');
      if (rec.registration === 'NormalRegistration') {
        expect(await login(rec.accountId)).toEqual({ exists: true, enabled: true });
        expect(state?.status).toBe('Used');
      } else {
        // Not used up: still pending, with its link, and no lease left held.
        expect(state?.status).toBe('Pending');
        expect(state?.lease).toBeUndefined();
        expect(await item(`EMAILMATCHLINK#${state!.tokenHash}`, 'LINK')).toBeDefined();
      }
    },
    async outcome(s, success) {
      const rec = await portalRecord(s.patientId);
      return {
        answered: { usernameIsTheChosenOne: success.json.username === s.username, accountIdIsTheRecords: success.json.accountId === rec.accountId },
        registration: rec.registration,
        statusMessage: rec.statusMessage,
        signIn: (await signIn(s.username, chosen)).status,
        login: await login(rec.accountId),
      };
    },
  });
});
