/**
 * Security rule 24 for the invitation flows: invite, resend, cancel, registration and the
 * note-signed auto-invite, each with every backend call failing in turn (support/fail-nth.ts),
 * in this worker against the local emulators. Half state here means:
 *   - invite/resend/auto-invite: a pending invitation whose email was neither sent nor marked
 *     `delivery: "Failed"`; a record and invitation item that disagree; a live old link after
 *     a new one was committed; a PIN answered that does not open the invitation;
 *   - cancel: a record that says Cancelled while the link still works, or the reverse;
 *   - registration: a login without a record (support/failure-flows.ts expectNoOrphanLogins),
 *     an invitation burned (Accepted, link gone) without a linked login, or a lease left held.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Answer } from '../support/events.ts';
import {
  defineFlowTests,
  event,
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
import { api, mailbox, stack } from './support/stack.ts';

useInProcessHandlers();

const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest('base64url');
const password = 'copper lantern orchard drizzle';

/** The link tokens of every invitation email to `email`, oldest first. */
async function linkTokens(email: string): Promise<string[]> {
  const mails = await mailbox(email);
  return mails.map((m) => /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec(m.body.text ?? '')?.[1]).filter((t): t is string => t !== undefined);
}

const linkStatus = async (token: string) => (await api('/invitations/lookup', { method: 'POST', body: { token } })).status;

async function accessCode(patientId: string): Promise<{ status: number; pin?: string }> {
  const { staff } = await staffSessions();
  const res = await api(`/patients/${patientId}/portal/access-code`, { token: staff });
  return { status: res.status, pin: res.json?.pin };
}

async function resendViaApi(patientId: string): Promise<void> {
  const { staff } = await staffSessions();
  const res = await api(`/patients/${patientId}/portal/invitation/resend`, { method: 'POST', token: staff });
  expect(res.status).toBe(200);
  expect(res.json.delivery).toBe('Sent');
}

/** A record with a pending invitation made through the API: its link token and PIN. */
async function invited(prefix: string) {
  const p = await newRecord(prefix);
  const { staff } = await staffSessions();
  const res = await api(`/patients/${p.patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(res.status).toBe(201);
  const [token] = await linkTokens(p.email);
  return { ...p, pin: res.json.pin as string, token: token!, sourceIp: freshAddress() };
}

const staffEvent = async (method: string, resource: string, patientId: string, sourceIp: string, body?: unknown) => {
  const { staff } = await staffSessions();
  return event({
    method,
    resource,
    path: resource.replace('{patientId}', patientId),
    pathParameters: { patientId },
    token: staff,
    sourceIp,
    ...(body !== undefined ? { body } : {}),
  });
};

/**
 * What every pending invitation must satisfy after any run: record and invitation item agree,
 * the live link is the invitation's, the email went out or the record says Failed.
 */
async function expectConsistentPending(patientId: string, email: string): Promise<void> {
  const rec = await portalRecord(patientId);
  const inv = await item(`INVITE#${patientId}`, 'INVITATION');
  expect(inv?.status ?? 'None').toBe(rec.invite.status === 'None' ? 'None' : rec.invite.status);
  if (rec.invite.status !== 'Pending') return;
  expect(inv?.lease, 'no lease left held').toBeUndefined();
  const link = await item(`INVITELINK#${inv!.tokenHash}`, 'LINK');
  expect(link?.linkId).toBe(inv!.linkId);
  expect(inv!.linkId).toEqual(expect.any(String));
  const tokens = await linkTokens(email);
  const emailed = tokens.some((t) => sha256(t) === inv!.tokenHash);
  if (!emailed) expect(rec.invite.delivery, 'a pending invitation whose email was not sent reads Failed').toBe('Failed');
}

describe('invite: POST /patients/{patientId}/portal/invitation', () => {
  type S = { patientId: string; email: string; sourceIp: string };
  let create: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    create = await handlerOf(() => import('../../lambdas/handlers/invitations/create.ts'));
  });

  defineFlowTests<S>({
    name: 'invite',
    route: 'invitation-create',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB BatchGetItem', // settings + record + invitation (issue 16)
      'DynamoDB TransactWriteItems', // record + invitation + link + audit
      'SES SendEmail',
      'DynamoDB TransactWriteItems', // delivery Sent + audit, conditional on the version just committed (no re-read)
    ],
    ok: 201,
    setup: async () => ({ ...(await newRecord('F24I')), sourceIp: freshAddress() }),
    send: async (s) => invoke(create, await staffEvent('POST', '/patients/{patientId}/portal/invitation', s.patientId, s.sourceIp)),
    async noHalfState(s, answer) {
      await expectConsistentPending(s.patientId, s.email);
      if (answer.status === 201) {
        // The PIN answered is the invitation's PIN.
        expect((await accessCode(s.patientId)).pin).toBe(answer.json.pin);
      }
    },
    // The commit was done but its answer lost: the invitation is pending, marked Failed, and the
    // retry is told so (409); resend (finish) sends it, and staff see the PIN with access-code.
    alreadyDone: [{ status: 409, type: /invitation-pending$/ }],
    async finish(s) {
      if ((await portalRecord(s.patientId)).invite.delivery === 'Failed') await resendViaApi(s.patientId);
    },
    async outcome(s, success) {
      const rec = await portalRecord(s.patientId);
      const tokens = await linkTokens(s.email);
      return {
        invite: { status: rec.invite.status, delivery: rec.invite.delivery, sentBy: rec.invite.sentBy },
        statusMessage: rec.statusMessage,
        newestLink: await linkStatus(tokens.at(-1)!),
        pinShownToStaff: success.status === 201 ? (await accessCode(s.patientId)).pin === success.json.pin : (await accessCode(s.patientId)).status === 200,
      };
    },
  });
});

describe('resend: POST /patients/{patientId}/portal/invitation/resend', () => {
  type S = Awaited<ReturnType<typeof invited>>;
  let resend: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    resend = await handlerOf(() => import('../../lambdas/handlers/invitations/resend.ts'));
  });

  defineFlowTests<S>({
    name: 'resend',
    route: 'invitation-resend',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB BatchGetItem', // settings + record + invitation (issue 16)
      'DynamoDB TransactWriteItems', // new link, old link deleted
      'SES SendEmail',
      'DynamoDB TransactWriteItems', // delivery Sent, conditional on the version just committed
    ],
    ok: 200,
    setup: () => invited('F24R'),
    send: async (s) => invoke(resend, await staffEvent('POST', '/patients/{patientId}/portal/invitation/resend', s.patientId, s.sourceIp)),
    async noHalfState(s) {
      await expectConsistentPending(s.patientId, s.email);
      const inv = await item(`INVITE#${s.patientId}`, 'INVITATION');
      // Exactly one link works: the old one until the new one is committed, then the new one.
      if (inv!.tokenHash !== sha256(s.token)) expect(await linkStatus(s.token)).toBe(410);
      else expect(await linkStatus(s.token)).toBe(200);
      expect((await accessCode(s.patientId)).pin, 'resend keeps the PIN').toBe(s.pin);
    },
    async finish(s) {
      if ((await portalRecord(s.patientId)).invite.delivery === 'Failed') await resendViaApi(s.patientId);
    },
    async outcome(s) {
      const rec = await portalRecord(s.patientId);
      const tokens = await linkTokens(s.email);
      return {
        invite: { status: rec.invite.status, delivery: rec.invite.delivery },
        newestLink: await linkStatus(tokens.at(-1)!),
        oldLink: await linkStatus(s.token),
        samePin: (await accessCode(s.patientId)).pin === s.pin,
      };
    },
  });
});

describe('cancel: DELETE /patients/{patientId}/portal/invitation', () => {
  type S = Awaited<ReturnType<typeof invited>>;
  let cancel: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    cancel = await handlerOf(() => import('../../lambdas/handlers/invitations/cancel.ts'));
  });

  defineFlowTests<S>({
    name: 'cancel',
    route: 'invitation-cancel',
    calls: ['DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB GetItem', 'DynamoDB TransactWriteItems'],
    ok: 200,
    setup: () => invited('F24C'),
    send: async (s) => invoke(cancel, await staffEvent('DELETE', '/patients/{patientId}/portal/invitation', s.patientId, s.sourceIp)),
    async noHalfState(s) {
      const rec = await portalRecord(s.patientId);
      const inv = await item(`INVITE#${s.patientId}`, 'INVITATION');
      expect(inv?.status).toBe(rec.invite.status);
      // Cancelled means the link and the PIN are dead; not cancelled means both still work.
      expect(await linkStatus(s.token)).toBe(rec.invite.status === 'Cancelled' ? 410 : 200);
      expect((await accessCode(s.patientId)).status).toBe(rec.invite.status === 'Cancelled' ? 404 : 200);
    },
    // Cancelled by the first attempt, whose answer was lost: the retry finds nothing pending.
    alreadyDone: [{ status: 404, type: /no-pending-invitation$/ }],
    async outcome(s) {
      const rec = await portalRecord(s.patientId);
      return {
        invite: rec.invite.status,
        link: await linkStatus(s.token),
        accessCode: (await accessCode(s.patientId)).status,
      };
    },
  });
});

describe('registration: POST /registrations', () => {
  type S = Awaited<ReturnType<typeof invited>> & { username: string; before: Set<string> };
  let register: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    register = await handlerOf(() => import('../../lambdas/handlers/registration/create.ts'));
  });

  defineFlowTests<S>({
    name: 'registration',
    route: 'registration-create',
    calls: [
      'DynamoDB BatchGetItem', // issue 16: link and PIN throttle counters (the token's and the address's), the link, username free?
      'DynamoDB BatchGetItem', // invitation + record + settings (for the practice notice, issue 19: no read after the commit)
      'DynamoDB UpdateItem', // lease + accountId + the PIN's try, one write before the compare (rule 5)
      'Cognito AdminCreateUser',
      'Cognito AdminSetUserPassword',
      'DynamoDB TransactWriteItems', // record (conditional on the version read: no re-read), invitation, link, account, username, audit
    ],
    ok: 201,
    async setup() {
      const s = await invited('F24G');
      return { ...s, username: `f24g-${s.patientId.slice(-8).toLowerCase()}`, before: await patientLogins() };
    },
    send: (s) =>
      invoke(register, event({ method: 'POST', resource: '/registrations', path: '/registrations', sourceIp: s.sourceIp, body: { token: s.token, pin: s.pin, username: s.username, password } })),
    async noHalfState(s) {
      await expectNoOrphanLogins(s.before, s.patientId);
      const rec = await portalRecord(s.patientId);
      const inv = await item(`INVITE#${s.patientId}`, 'INVITATION');
      if (rec.registration === 'NormalRegistration') {
        // The link state reads Used (one-time-link.ts); the record's invite reads Accepted.
        expect(inv?.status).toBe('Used');
        expect(rec.accountId).toBe(inv!.accountId);
        expect(await login(rec.accountId)).toEqual({ exists: true, enabled: true });
        expect(await item(`ACCOUNT#${rec.accountId}`, 'ACCOUNT')).toMatchObject({ patientId: s.patientId });
      } else {
        // Not burned: still pending, the link still works, no lease left behind.
        expect(inv?.status).toBe('Pending');
        expect(inv?.lease).toBeUndefined();
        expect(await linkStatus(s.token)).toBe(200);
      }
    },
    async outcome(s, success) {
      const rec = await portalRecord(s.patientId);
      const inv = await item(`INVITE#${s.patientId}`, 'INVITATION');
      const signIn = await api('/sessions', { method: 'POST', body: { username: s.username, password } });
      return {
        answered: { usernameIsTheChosenOne: success.json.username === s.username, accountIdIsTheRecords: success.json.accountId === rec.accountId },
        registration: rec.registration,
        statusMessage: rec.statusMessage,
        invitation: inv?.status,
        accountIdFixedByTheInvitation: inv?.accountId === rec.accountId,
        link: await linkStatus(s.token),
        signIn: signIn.status,
        login: await login(rec.accountId),
      };
    },
  });
});

describe('note-signed auto-invite: POST /events/note-signed', () => {
  type S = { patientId: string; email: string; sourceIp: string };
  let noteSigned: Awaited<ReturnType<typeof handlerOf>>;
  const signer = () => stack().staff.username;

  beforeAll(async () => {
    noteSigned = await handlerOf(() => import('../../lambdas/handlers/auto-invite/note-signed.ts'));
    const { admin } = await staffSessions();
    expect((await api('/settings', { method: 'PUT', token: admin, body: { autoInvite: true } })).status).toBe(200);
    expect((await api(`/staff/${signer()}/permissions`, { method: 'PUT', token: admin, body: { autoInvite: true, canInvite: true } })).status).toBe(200);
  });
  afterAll(async () => {
    const { admin } = await staffSessions();
    await api('/settings', { method: 'PUT', token: admin, body: { autoInvite: false } });
    await api(`/staff/${signer()}/permissions`, { method: 'PUT', token: admin, body: { autoInvite: false, canInvite: true } });
  });

  defineFlowTests<S>({
    name: 'note-signed auto-invite',
    route: 'note-signed',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30): the signer's permissions
      'DynamoDB GetItem', // settings
      'DynamoDB BatchGetItem', // sendInvitation: settings + record + invitation (issue 16)
      'DynamoDB TransactWriteItems',
      'SES SendEmail',
      'DynamoDB TransactWriteItems', // delivery Sent, conditional on the version just committed
    ],
    ok: 202,
    setup: async () => ({ ...(await newRecord('F24N')), sourceIp: freshAddress() }),
    send: async (s) => {
      const { staff } = await staffSessions();
      return invoke(
        noteSigned,
        event({ method: 'POST', resource: '/events/note-signed', path: '/events/note-signed', token: staff, sourceIp: s.sourceIp, body: { patientId: s.patientId, signedBy: signer() } }),
      );
    },
    async noHalfState(s, answer) {
      await expectConsistentPending(s.patientId, s.email);
      if (answer.status === 202 && answer.json.invited) expect((await portalRecord(s.patientId)).invite.status).toBe('Pending');
    },
    async finish(s) {
      if ((await portalRecord(s.patientId)).invite.delivery === 'Failed') await resendViaApi(s.patientId);
    },
    async outcome(s, success: Answer) {
      const rec = await portalRecord(s.patientId);
      const tokens = await linkTokens(s.email);
      return {
        // The retry after a lost commit answers {invited: false, reason: invitation-pending}: invited all the same.
        answered: { invitedByThisEvent: success.json.invited === true || success.json.reason === 'invitation-pending', hasPin: 'pin' in success.json },
        invite: { status: rec.invite.status, delivery: rec.invite.delivery, sentBy: rec.invite.sentBy },
        newestLink: await linkStatus(tokens.at(-1)!),
        accessCode: (await accessCode(s.patientId)).status,
      };
    },
  });
});
