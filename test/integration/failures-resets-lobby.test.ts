/**
 * Security rule 24 for credential resets and lobby mode: the patient's reset request, the staff
 * reset, the reset confirmation, the lobby password and the lobby sign-in, each with every backend
 * call failing in turn (support/fail-nth.ts). Half state here means:
 *   - reset request / staff reset: a pending reset whose email was neither sent nor marked
 *     failed (the answer's `delivery: "Failed"` for staff, a `reset.email-failed` audit entry);
 *     an old link still working after a new one was committed;
 *   - reset confirmation: the link used up without the change made, or a try or lease left held
 *     (the same request could not be repeated);
 *   - lobby sign-in: the lobby password used up without a session;
 *   - lobby End: a 204 whose token still opens the session.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect } from 'vitest';
import type { Answer } from '../support/events.ts';
import {
  defineFlowTests,
  event,
  freshAddress,
  handlerOf,
  invoke,
  item,
  newRecord,
  portalRecord,
  staffSessions,
  useInProcessHandlers,
} from './support/failure-flows.ts';
import { api, mailbox } from './support/stack.ts';

useInProcessHandlers();

const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest('base64url');
const chosen = 'marble falcon ember thistle';
const changed = 'cobalt willow saddle ferry';

const signIn = (username: string, password: string) => api('/sessions', { method: 'POST', body: { username, password } });

/** A patient with a login and a password of their own (Register Patient, then the new-password step). */
async function registered(prefix: string) {
  const p = await newRecord(prefix);
  const { staff } = await staffSessions();
  const reg = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: staff });
  expect(reg.status).toBe(201);
  const challenge = await signIn(reg.json.username, reg.json.temporaryPassword);
  const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: chosen } });
  expect(done.status).toBe(200);
  return { ...p, username: reg.json.username as string, sourceIp: freshAddress() };
}

/** Link token and PIN of every reset email to `email`, oldest first. */
async function resetMails(email: string) {
  return (await mailbox(email))
    .filter((m) => /Reset your/.test(m.subject))
    .map((m) => ({
      token: /\/portal\/reset#token=([A-Za-z0-9_-]+)/.exec(m.body.text ?? '')?.[1] ?? '',
      pin: /PIN: ([A-Z0-9]{6})/.exec(m.body.text ?? '')?.[1] ?? '',
    }));
}

async function audited(patientId: string, action: string): Promise<boolean> {
  const { admin } = await staffSessions();
  const res = await api(`/patients/${patientId}/portal/audit`, { token: admin });
  expect(res.status).toBe(200);
  return (res.json.items as { action: string }[]).some((i) => i.action === action);
}

/**
 * Whatever happened, the pending reset (if any) is one whose email went out or whose failure is
 * marked, and only its own link works.
 */
async function expectResetAccountedFor(patientId: string, email: string, answer: Answer, failureMarked: () => Promise<boolean>): Promise<void> {
  const reset = await item(`RESET#${patientId}`, 'RESET');
  if (!reset || reset.status !== 'Pending') return;
  expect(reset.lease, 'no lease left held').toBeUndefined();
  expect(await item(`RESETLINK#${reset.tokenHash}`, 'LINK')).toMatchObject({ linkId: reset.linkId });
  const mails = await resetMails(email);
  for (const m of mails) if (sha256(m.token) !== reset.tokenHash) expect(await item(`RESETLINK#${sha256(m.token)}`, 'LINK'), 'an older link').toBeUndefined();
  // After a 5xx the caller knows to ask again (a link no email carries can never be used: only its
  // hash exists); after a 202 the email went out or its failure is marked.
  if (answer.status === 202 && !mails.some((m) => sha256(m.token) === reset.tokenHash)) {
    expect(await failureMarked(), 'a reset whose email was lost is marked failed').toBe(true);
  }
}

/** The end state of a reset request: one pending reset, emailed, its link the newest email's. */
async function resetOutcome(patientId: string, email: string) {
  const reset = await item(`RESET#${patientId}`, 'RESET');
  const newest = (await resetMails(email)).at(-1);
  return {
    status: reset?.status,
    newestEmailIsTheLiveLink: newest !== undefined && sha256(newest.token) === reset?.tokenHash,
    tries: reset?.tries,
    failures: reset?.failures,
  };
}

describe('reset request: POST /credential-resets', () => {
  type S = Awaited<ReturnType<typeof registered>>;
  let request: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    request = await handlerOf(() => import('../../lambdas/handlers/resets/request.ts'));
  });

  defineFlowTests<S>({
    name: 'reset request',
    route: 'reset-request',
    calls: [
      'DynamoDB BatchGetItem', // settings + username (issue 16)
      'DynamoDB BatchGetItem', // record + the current reset
      'DynamoDB TransactWriteItems', // reset, link, old link deleted, audit
      'SES SendEmail',
    ],
    ok: 202,
    setup: () => registered('F24Q'),
    send: (s) => invoke(request, event({ method: 'POST', resource: '/credential-resets', path: '/credential-resets', sourceIp: s.sourceIp, body: { username: s.username } })),
    noHalfState: (s, answer) => expectResetAccountedFor(s.patientId, s.email, answer, () => audited(s.patientId, 'reset.email-failed')),
    async finish(s) {
      // The patient who got no email asks again (one body for every outcome, so the client cannot tell).
      const reset = await item(`RESET#${s.patientId}`, 'RESET');
      const mails = await resetMails(s.email);
      if (!mails.some((m) => sha256(m.token) === reset?.tokenHash)) {
        expect((await api('/credential-resets', { method: 'POST', body: { username: s.username } })).status).toBe(202);
      }
    },
    outcome: (s) => resetOutcome(s.patientId, s.email),
  });
});

describe('staff credential reset: POST /patients/{patientId}/portal/credential-reset', () => {
  type S = Awaited<ReturnType<typeof registered>>;
  let staffReset: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    staffReset = await handlerOf(() => import('../../lambdas/handlers/resets/staff.ts'));
  });
  let lastAnswer: Record<string, any> = {};

  defineFlowTests<S>({
    name: 'staff credential reset',
    route: 'staff-reset',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // record
      'DynamoDB GetItem', // the current reset
      'DynamoDB TransactWriteItems',
      'SES SendEmail',
    ],
    ok: 202,
    setup: () => registered('F24S'),
    send: async (s) => {
      const { staff } = await staffSessions();
      const resource = '/patients/{patientId}/portal/credential-reset';
      const answer = await invoke(
        staffReset,
        event({ method: 'POST', resource, path: resource.replace('{patientId}', s.patientId), pathParameters: { patientId: s.patientId }, token: staff, sourceIp: s.sourceIp }),
      );
      lastAnswer = answer.json;
      return answer;
    },
    // Staff are told `delivery: "Failed"` (and the trail says so): that is the mark.
    noHalfState: (s, answer) => expectResetAccountedFor(s.patientId, s.email, answer, async () => lastAnswer.delivery === 'Failed' || (await audited(s.patientId, 'reset.email-failed'))),
    async finish(s, success) {
      if (success.json.delivery === 'Failed') {
        const { staff } = await staffSessions();
        const again = await api(`/patients/${s.patientId}/portal/credential-reset`, { method: 'POST', token: staff });
        expect(again.status).toBe(202);
        expect(again.json.delivery).toBe('Sent');
      }
    },
    outcome: (s) => resetOutcome(s.patientId, s.email),
  });
});

describe('reset confirmation: POST /credential-resets/confirm', () => {
  type S = Awaited<ReturnType<typeof registered>> & { token: string; pin: string };
  let confirm: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    confirm = await handlerOf(() => import('../../lambdas/handlers/resets/confirm.ts'));
  });

  defineFlowTests<S>({
    name: 'reset confirmation',
    route: 'reset-confirm',
    calls: [
      'DynamoDB BatchGetItem', // issue 16: throttle (link, address) + the link
      'DynamoDB BatchGetItem', // reset + record + settings (for the notice)
      'DynamoDB UpdateItem', // the lease and one try reserved, one write (rule 5)
      'Cognito AdminSetUserPassword',
      'Cognito AdminUserGlobalSignOut',
      'DynamoDB TransactWriteItems', // record stamped (conditional on the version read), reset used, link deleted, the sign-in failure counter cleared, audit
      'SES SendEmail', // the notice (rule 15)
    ],
    ok: 200,
    async setup() {
      const p = await registered('F24K');
      expect((await api('/credential-resets', { method: 'POST', body: { username: p.username } })).status).toBe(202);
      const mail = (await resetMails(p.email)).at(-1)!;
      return { ...p, token: mail.token, pin: mail.pin };
    },
    send: (s) =>
      invoke(
        confirm,
        event({ method: 'POST', resource: '/credential-resets/confirm', path: '/credential-resets/confirm', sourceIp: s.sourceIp, body: { token: s.token, pin: s.pin, username: s.username, newPassword: changed } }),
      ),
    async noHalfState(s) {
      const reset = await item(`RESET#${s.patientId}`, 'RESET');
      const raw = await item(`PATIENT#${s.patientId}`, 'RECORD');
      expect(reset?.lease, 'no lease left held').toBeUndefined();
      if (reset?.status === 'Pending') {
        // Not used up: the link still there, and no try left counted against a request that failed on our side.
        expect(await item(`RESETLINK#${s.token ? sha256(s.token) : ''}`, 'LINK')).toBeDefined();
        expect(reset.failures).toBe(0);
      } else {
        // Used up only together with the record's cut-off (every earlier session ends, rule 15).
        expect(raw?.revokedAt).toBeDefined();
        expect(await item(`RESETLINK#${sha256(s.token)}`, 'LINK')).toBeUndefined();
      }
    },
    // Done, with the answer lost: the retry finds the link used.
    alreadyDone: [{ status: 410, type: /gone$/ }],
    async outcome(s) {
      const reset = await item(`RESET#${s.patientId}`, 'RESET');
      return {
        reset: reset?.status,
        newPassword: (await signIn(s.username, changed)).status,
        oldPassword: (await signIn(s.username, chosen)).status,
        // The notice (rule 15) went out, or its failure is on the audit trail.
        notice: (await mailbox(s.email)).some((m) => /changed/i.test(m.subject)) || (await audited(s.patientId, 'reset.notice-failed')),
        link: (await api('/credential-resets/confirm', { method: 'POST', body: { token: s.token, pin: s.pin, username: s.username, newPassword: 'another long passphrase here' } })).status,
      };
    },
  });
});

describe('lobby password: POST /patients/{patientId}/portal/lobby-password', () => {
  type S = { patientId: string; email: string; sourceIp: string };
  let issue: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    issue = await handlerOf(() => import('../../lambdas/handlers/lobby/password-create.ts'));
  });

  defineFlowTests<S>({
    name: 'lobby password',
    route: 'lobby-password-create',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB BatchGetItem', // record + settings (issue 16)
      'DynamoDB TransactWriteItems', // the password + audit + the lobby guessing counter cleared
    ],
    ok: 201,
    setup: async () => ({ ...(await newRecord('F24L')), sourceIp: freshAddress() }),
    send: async (s) => {
      const { staff } = await staffSessions();
      const resource = '/patients/{patientId}/portal/lobby-password';
      return invoke(issue, event({ method: 'POST', resource, path: resource.replace('{patientId}', s.patientId), pathParameters: { patientId: s.patientId }, token: staff, sourceIp: s.sourceIp }));
    },
    async noHalfState(s) {
      const stored = await item(`LOBBY#${s.patientId}`, 'PASSWORD');
      if (stored) expect(stored.used).toBe(false);
      expect((await portalRecord(s.patientId)).accessEnabled).toBe(true);
    },
    async outcome(s, success) {
      const lobby = await api('/lobby-sessions', { method: 'POST', body: { masterCase: success.json.masterCase, lobbyPassword: success.json.lobbyPassword } });
      return { masterCaseIsThePatientId: success.json.masterCase === s.patientId, lobbySignIn: lobby.status, scope: lobby.json.scope };
    },
  });
});

describe('lobby sign-in: POST /lobby-sessions', () => {
  type S = { patientId: string; sourceIp: string; lobbyPassword: string; send: () => Promise<Answer> };
  let lobbySignIn: Awaited<ReturnType<typeof handlerOf>>;
  const send = (s: S) =>
    invoke(lobbySignIn, event({ method: 'POST', resource: '/lobby-sessions', path: '/lobby-sessions', sourceIp: s.sourceIp, body: { masterCase: s.patientId, lobbyPassword: s.lobbyPassword } }));
  beforeAll(async () => {
    lobbySignIn = await handlerOf(() => import('../../lambdas/handlers/lobby/sign-in.ts'));
  });

  defineFlowTests<S>({
    name: 'lobby sign-in',
    route: 'lobby-sign-in',
    calls: [
      'DynamoDB Query', // records by case number (sent first: a Query is never collected)
      'DynamoDB BatchGetItem', // throttle counters + the record whose patientId it is + its lobby password (issue 16)
      'DynamoDB TransactWriteItems', // password used + session + audit
    ],
    ok: 200,
    async setup() {
      const p = await newRecord('F24B');
      const { staff } = await staffSessions();
      const issued = await api(`/patients/${p.patientId}/portal/lobby-password`, { method: 'POST', token: staff });
      expect(issued.status).toBe(201);
      const s: S = { patientId: p.patientId, sourceIp: freshAddress(), lobbyPassword: issued.json.lobbyPassword as string, send: () => send(s) };
      return s;
    },
    send: (s) => send(s),
    lostAnswerLimits: {
      3: {
        consequence: 'the password is used up (one session each, rule 12) and the retry refused; a new lobby password from staff lets the patient in',
        async check(s) {
          expect((await item(`LOBBY#${s.patientId}`, 'PASSWORD'))?.used).toBe(true);
          const retry = await s.send();
          expect(retry.status).toBe(401);
          const { staff } = await staffSessions();
          const issued = await api(`/patients/${s.patientId}/portal/lobby-password`, { method: 'POST', token: staff });
          expect(issued.status).toBe(201);
          const again = await api('/lobby-sessions', { method: 'POST', body: { masterCase: s.patientId, lobbyPassword: issued.json.lobbyPassword } });
          expect(again.status).toBe(200);
        },
      },
    },
    async noHalfState(s, answer) {
      const stored = await item(`LOBBY#${s.patientId}`, 'PASSWORD');
      // Used up only by a session that was answered; a failed request leaves it usable.
      if (answer.status !== 200 && stored?.used) expect.fail('the lobby password was used up by a request that failed');
      if (answer.status === 200) expect((await api('/lobby-sessions/current', { token: answer.json.lobbyToken })).status).toBe(200);
    },
    async outcome(s, success) {
      const current = await api('/lobby-sessions/current', { token: success.json.lobbyToken });
      return { patientId: success.json.patientId === s.patientId, scope: success.json.scope, current: current.status, used: (await item(`LOBBY#${s.patientId}`, 'PASSWORD'))?.used };
    },
  });
});

describe('lobby End: DELETE /lobby-sessions/current', () => {
  type S = { patientId: string; sourceIp: string; lobbyToken: string };
  let end: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    end = await handlerOf(() => import('../../lambdas/handlers/lobby/end.ts'));
  });
  const current = (s: S) => api('/lobby-sessions/current', { token: s.lobbyToken });

  defineFlowTests<S>({
    name: 'lobby End',
    route: 'lobby-session-end',
    calls: [
      'DynamoDB GetItem', // the session the lobby token opens
      'DynamoDB GetItem', // its record (still enabled, not revoked since)
      'DynamoDB TransactWriteItems', // the session deleted + audit
    ],
    ok: 204,
    async setup() {
      const p = await newRecord('F24E');
      const { staff } = await staffSessions();
      const issued = await api(`/patients/${p.patientId}/portal/lobby-password`, { method: 'POST', token: staff });
      expect(issued.status).toBe(201);
      const signedIn = await api('/lobby-sessions', { method: 'POST', body: { masterCase: p.patientId, lobbyPassword: issued.json.lobbyPassword } });
      expect(signedIn.status).toBe(200);
      return { patientId: p.patientId, sourceIp: freshAddress(), lobbyToken: signedIn.json.lobbyToken as string };
    },
    send: (s) =>
      invoke(end, event({ method: 'DELETE', resource: '/lobby-sessions/current', path: '/lobby-sessions/current', token: s.lobbyToken, sourceIp: s.sourceIp })),
    // The session was ended but the answer lost: the token is dead, so the retry is the 401 of any dead token.
    alreadyDone: [{ status: 401, type: /unauthorized$/ }],
    async noHalfState(s, answer) {
      // Ended only all the way: a 204 means the token opens nothing; a failure leaves it either open or ended, never in between.
      if (answer.status === 204) expect((await current(s)).status).toBe(401);
      else expect([200, 401]).toContain((await current(s)).status);
    },
    async outcome(s) {
      return { current: (await current(s)).status, session: (await item(`LOBBY#${s.patientId}`, 'PASSWORD'))?.used };
    },
  });
});
