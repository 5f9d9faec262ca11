/**
 * Security rule 24 (and 35) for proxy access (issue 18): staff and patient invitations, ending,
 * opening a record as a proxy, and registering with a proxy link (a new login, or an existing
 * one), each with every backend call failing in turn (support/fail-nth.ts). Half state here means:
 *   - invite: a grant without its live link (or the reverse), two live invitations to one
 *     address after a retry, a PIN answered that does not open the link;
 *   - end: a grant that reads Ended while its link or the login's side still works;
 *   - registration: a login without its ACCOUNT# item or a pending link that a retry completes
 *     with it, a link burned (Used) with the grant still Invited, or a lease left held.
 */
import { beforeAll, describe, expect } from 'vitest';
import {
  defineFlowTests,
  event,
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
import { api, mailbox } from './support/stack.ts';

useInProcessHandlers();

const chosen = 'saffron kettle meadow lantern';
const proxyPassword = 'walnut ferry glacier pigeon';
let counter = 0;
const proxyEmail = () => `f24p-${Date.now().toString(36)}-${++counter}@example.test`;

const signIn = (username: string, password: string) => api('/sessions', { method: 'POST', body: { username, password } });

/** The px. tokens emailed to `email`, oldest first. */
async function proxyTokens(email: string): Promise<string[]> {
  return (await mailbox(email)).flatMap((m) => /\/portal\/register#token=(px\.[A-Za-z0-9_-]+)/.exec(m.body.text ?? '')?.[1] ?? []);
}
const lookup = async (token: string) => (await api('/invitations/lookup', { method: 'POST', body: { token } })).status;

/** A registered patient signed in (Register Patient, then the new-password step). */
async function signedIn(prefix: string) {
  const p = await newRecord(prefix);
  const { staff } = await staffSessions();
  const reg = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: staff });
  expect(reg.status).toBe(201);
  const challenge = await signIn(reg.json.username, reg.json.temporaryPassword);
  const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: chosen } });
  expect(done.status).toBe(200);
  return { ...p, username: reg.json.username as string, accessToken: done.json.accessToken as string, sourceIp: freshAddress() };
}

/** A proxy invitation made by staff through the API: its id, PIN and token. */
async function invitedProxy(prefix: string, extra: Record<string, unknown> = {}) {
  const p = await newRecord(prefix);
  const { staff } = await staffSessions();
  const email = proxyEmail();
  const res = await api(`/patients/${p.patientId}/portal/proxies`, { method: 'POST', token: staff, body: { name: 'Pat Parent', email, relationship: 'parent', scope: 'full', ...extra } });
  expect(res.status).toBe(201);
  const [token] = await proxyTokens(email);
  return { ...p, proxyEmail: email, proxyId: res.json.proxyId as string, pin: res.json.pin as string, token: token!, sourceIp: freshAddress() };
}

/** A proxy who registered a login of their own, signed in. */
async function activeProxy(prefix: string) {
  const inv = await invitedProxy(prefix);
  const username = `f24p-${inv.proxyId.slice(0, 8)}`;
  const reg = await api('/registrations', { method: 'POST', body: { token: inv.token, pin: inv.pin, username, password: proxyPassword } });
  expect(reg.status).toBe(201);
  const session = await signIn(username, proxyPassword);
  expect(session.status).toBe(200);
  return { ...inv, username, accountId: reg.json.accountId as string, accessToken: session.json.accessToken as string };
}

/** Every invitation to `email` on the record: at most one still Invited, and it is the one whose link works. */
async function expectOneLiveInvitation(patientId: string, email: string): Promise<void> {
  const grants = await grantsOf(patientId);
  const invited = grants.filter((g) => g.status === 'Invited');
  expect(invited.length, 'at most one invitation out per address').toBeLessThanOrEqual(1);
  for (const g of grants) {
    const state = await item(`PROXYINVITE#${patientId}#${g.proxyId}`, 'STATE');
    if (g.status === 'Invited') {
      expect(state?.status, 'an Invited grant has its pending link').toBe('Pending');
      expect(state?.lease, 'no lease left held').toBeUndefined();
      expect((await item(`PROXYLINK#${state!.tokenHash}`, 'LINK'))?.linkId).toBe(state!.linkId);
    } else {
      expect(state?.status, 'an ended grant has no pending link').not.toBe('Pending');
    }
  }
  const live = [];
  for (const t of await proxyTokens(email)) if ((await lookup(t)) === 200) live.push(t);
  expect(live.length).toBeLessThanOrEqual(1);
}

async function grantsOf(patientId: string): Promise<Record<string, any>[]> {
  const { staff } = await staffSessions();
  const res = await api(`/patients/${patientId}/portal/proxies`, { token: staff });
  expect(res.status).toBe(200);
  return res.json.items;
}

const staffEvent = async (method: string, resource: string, params: Record<string, string>, sourceIp: string, body?: unknown) => {
  const { staff } = await staffSessions();
  let path = resource;
  for (const [k, v] of Object.entries(params)) path = path.replace(`{${k}}`, v);
  return event({ method, resource, path, pathParameters: params, token: staff, sourceIp, ...(body !== undefined ? { body } : {}) });
};

describe('staff invite a proxy: POST /patients/{patientId}/portal/proxies', () => {
  type S = { patientId: string; email: string; proxyEmail: string; sourceIp: string };
  let invite: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    invite = await handlerOf(() => import('../../lambdas/handlers/proxies/invite.ts'));
  });

  defineFlowTests<S>({
    name: 'proxy invite',
    route: 'proxy-invite',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // record
      'DynamoDB Query', // the record's grants (an invitation to the same address is replaced)
      'DynamoDB TransactWriteItems', // grant + link state + pointer (+ the replaced one) + audit
      'SES SendEmail',
      'DynamoDB UpdateItem', // delivery Sent on the grant
    ],
    ok: 201,
    setup: async () => ({ ...(await newRecord('F24PI')), proxyEmail: proxyEmail(), sourceIp: freshAddress() }),
    send: async (s) =>
      invoke(
        invite,
        await staffEvent('POST', '/patients/{patientId}/portal/proxies', { patientId: s.patientId }, s.sourceIp, { name: 'Pat Parent', email: s.proxyEmail, relationship: 'parent', scope: 'full' }),
      ),
    async noHalfState(s) {
      await expectOneLiveInvitation(s.patientId, s.proxyEmail);
    },
    // A retry after a lost answer or a failed email invites the same address again, which replaces the earlier invitation.
    async finish(s, answer) {
      if (answer.json.delivery === 'Failed') {
        const again = await invoke(
          invite,
          await staffEvent('POST', '/patients/{patientId}/portal/proxies', { patientId: s.patientId }, s.sourceIp, { name: 'Pat Parent', email: s.proxyEmail, relationship: 'parent', scope: 'full' }),
        );
        expect(again.status).toBe(201);
        expect(again.json.delivery).toBe('Sent');
      }
    },
    async outcome(s) {
      const grants = await grantsOf(s.patientId);
      const tokens = await proxyTokens(s.proxyEmail);
      return { invited: grants.filter((g) => g.status === 'Invited').length, newestLink: await lookup(tokens.at(-1)!) };
    },
  });
});

describe('the patient invites a proxy: POST /account/proxies', () => {
  type S = Awaited<ReturnType<typeof signedIn>> & { proxyEmail: string };
  let invite: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    invite = await handlerOf(() => import('../../lambdas/handlers/proxies/account-invite.ts'));
  });
  const send = (s: S) =>
    invoke(
      invite,
      event({ method: 'POST', resource: '/account/proxies', path: '/account/proxies', token: s.accessToken, sourceIp: s.sourceIp, body: { name: 'Kim Carer', email: s.proxyEmail, relationship: 'carer', scope: 'limited' } }),
    );

  defineFlowTests<S>({
    name: 'patient proxy invite',
    route: 'account-proxy-invite',
    calls: [
      'DynamoDB GetItem', // token check: the login's ACCOUNT# item
      'DynamoDB GetItem', // token check: its record
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // record
      'DynamoDB Query', // the record's grants
      'DynamoDB TransactWriteItems', // grant + link state + pointer + audit
      'SES SendEmail',
      'DynamoDB UpdateItem', // delivery Sent on the grant
    ],
    ok: 201,
    setup: async () => ({ ...(await signedIn('F24PA')), proxyEmail: proxyEmail() }),
    send,
    async noHalfState(s) {
      await expectOneLiveInvitation(s.patientId, s.proxyEmail);
    },
    async finish(s, answer) {
      if (answer.json.delivery === 'Failed') expect((await send(s)).json.delivery).toBe('Sent');
    },
    async outcome(s) {
      const grants = await grantsOf(s.patientId);
      const tokens = await proxyTokens(s.proxyEmail);
      return { invited: grants.filter((g) => g.status === 'Invited').length, scope: grants.find((g) => g.status === 'Invited')?.scope, newestLink: await lookup(tokens.at(-1)!) };
    },
  });
});

describe('staff end an invited proxy: DELETE /patients/{patientId}/portal/proxies/{proxyId}', () => {
  type S = Awaited<ReturnType<typeof invitedProxy>>;
  let end: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    end = await handlerOf(() => import('../../lambdas/handlers/proxies/end.ts'));
  });

  defineFlowTests<S>({
    name: 'proxy end',
    route: 'proxy-end',
    calls: [
      'DynamoDB GetItem', // the caller's staff record (token check, rule 30)
      'DynamoDB GetItem', // the grant
      'DynamoDB GetItem', // its link state (Invited)
      'DynamoDB TransactWriteItems', // grant Ended + link Cancelled + pointer deleted + audit
    ],
    ok: 200,
    setup: () => invitedProxy('F24PE'),
    send: async (s) => invoke(end, await staffEvent('DELETE', '/patients/{patientId}/portal/proxies/{proxyId}', { patientId: s.patientId, proxyId: s.proxyId }, s.sourceIp)),
    async noHalfState(s) {
      const [grant] = await grantsOf(s.patientId);
      // Ended and link dead together, or neither.
      expect(await lookup(s.token)).toBe(grant!.status === 'Ended' ? 410 : 200);
    },
    async outcome(s) {
      const [grant] = await grantsOf(s.patientId);
      return { status: grant!.status, link: await lookup(s.token) };
    },
  });
});

describe('the patient ends an active proxy: DELETE /account/proxies/{proxyId}', () => {
  type S = Awaited<ReturnType<typeof activeProxy>> & { patient: Awaited<ReturnType<typeof signedIn>> };
  let end: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    end = await handlerOf(() => import('../../lambdas/handlers/proxies/account-end.ts'));
  });

  defineFlowTests<S>({
    name: 'patient proxy end',
    route: 'account-proxy-end',
    calls: [
      'DynamoDB GetItem', // token check: the login's ACCOUNT# item
      'DynamoDB GetItem', // token check: its record
      'DynamoDB GetItem', // the grant (on the caller's own record only)
      'DynamoDB GetItem', // the login's side of it (ACCOUNT#<proxy>/RECORD#<patient>)
      'DynamoDB TransactWriteItems', // grant Ended + the login's side deleted + audit
    ],
    ok: 200,
    async setup() {
      const patient = await signedIn('F24PX');
      const email = proxyEmail();
      const inv = await api('/account/proxies', { method: 'POST', token: patient.accessToken, body: { name: 'Kim Carer', email, relationship: 'carer', scope: 'full' } });
      expect(inv.status).toBe(201);
      const [token] = await proxyTokens(email);
      const username = `f24px-${inv.json.proxyId.slice(0, 8)}`;
      const reg = await api('/registrations', { method: 'POST', body: { token, pin: inv.json.pin, username, password: proxyPassword } });
      expect(reg.status).toBe(201);
      const session = await signIn(username, proxyPassword);
      return {
        ...patient,
        patient,
        proxyEmail: email,
        proxyId: inv.json.proxyId as string,
        pin: inv.json.pin as string,
        token: token!,
        username,
        accountId: reg.json.accountId as string,
        accessToken: session.json.accessToken as string,
      };
    },
    send: (s) =>
      invoke(end, event({ method: 'DELETE', resource: '/account/proxies/{proxyId}', path: `/account/proxies/${s.proxyId}`, pathParameters: { proxyId: s.proxyId }, token: s.patient.accessToken, sourceIp: s.sourceIp })),
    async noHalfState(s) {
      const [grant] = await grantsOf(s.patientId);
      const opened = (await api(`/account/records/${s.patientId}`, { token: s.accessToken })).status;
      // Rule 32: once it reads Ended, the proxy's next request is refused.
      if (grant!.status === 'Ended') expect(opened).toBe(403);
      else expect(opened).toBe(200);
      const reach = await item(`ACCOUNT#${s.accountId}`, `RECORD#${s.patientId}`);
      if (grant!.status === 'Ended') expect(reach).toBeUndefined();
    },
    async outcome(s) {
      const [grant] = await grantsOf(s.patientId);
      return { status: grant!.status, opened: (await api(`/account/records/${s.patientId}`, { token: s.accessToken })).status };
    },
  });
});

describe('a proxy opens the record: GET /account/records/{patientId}', () => {
  type S = Awaited<ReturnType<typeof activeProxy>>;
  let open: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    open = await handlerOf(() => import('../../lambdas/handlers/proxies/record-get.ts'));
  });

  defineFlowTests<S>({
    name: 'proxy opens a record',
    route: 'account-record-get',
    calls: [
      'DynamoDB GetItem', // token check: the proxy-only login's ACCOUNT# item (its generation)
      'DynamoDB GetItem', // the record
      'DynamoDB GetItem', // the login's side (ACCOUNT#/RECORD#)
      'DynamoDB GetItem', // the grant: rule 32 read on every request
      'DynamoDB PutItem', // audit: a proxy opened the record
    ],
    ok: 200,
    setup: () => activeProxy('F24PO'),
    send: (s) =>
      invoke(open, event({ method: 'GET', resource: '/account/records/{patientId}', path: `/account/records/${s.patientId}`, pathParameters: { patientId: s.patientId }, token: s.accessToken, sourceIp: s.sourceIp })),
    async noHalfState() {},
    async outcome(_s, success) {
      return { role: success.json.role, scope: success.json.scope, cases: success.json.cases };
    },
  });
});

describe('a proxy registers a login of their own: POST /registrations with a proxy link', () => {
  type S = Awaited<ReturnType<typeof invitedProxy>> & { username: string; before: Set<string> };
  let register: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    register = await handlerOf(() => import('../../lambdas/handlers/registration/create.ts'));
  });

  defineFlowTests<S>({
    name: 'proxy registration',
    route: 'registration-create',
    calls: [
      'DynamoDB GetItem', // link throttle: the token's counter
      'DynamoDB GetItem', // and the address's
      'DynamoDB GetItem', // pointer
      'DynamoDB GetItem', // link state
      'DynamoDB GetItem', // record
      'DynamoDB UpdateItem', // a PIN try reserved before the compare (rule 5)
      'DynamoDB GetItem', // PIN throttle: the token's counter
      'DynamoDB GetItem', // and the address's
      'DynamoDB UpdateItem', // the try given back: the PIN was right
      'DynamoDB GetItem', // the grant: still Invited
      'DynamoDB GetItem', // username free?
      'DynamoDB UpdateItem', // lease + accountId
      'Cognito AdminCreateUser',
      'Cognito AdminSetUserPassword',
      'DynamoDB GetItem', // record again
      'DynamoDB TransactWriteItems', // grant Active, link Used, pointer, ACCOUNT#, USERNAME#, RECORD#, record, audit
    ],
    ok: 201,
    async setup() {
      const s = await invitedProxy('F24PR');
      return { ...s, username: `f24pr-${s.proxyId.slice(0, 8)}`, before: await patientLogins() };
    },
    send: (s) =>
      invoke(register, event({ method: 'POST', resource: '/registrations', path: '/registrations', sourceIp: s.sourceIp, body: { token: s.token, pin: s.pin, username: s.username, password: proxyPassword } })),
    async noHalfState(s) {
      const state = await item(`PROXYINVITE#${s.patientId}#${s.proxyId}`, 'STATE');
      const [grant] = await grantsOf(s.patientId);
      // No login without its ACCOUNT# item, unless the pending link would complete it with that very accountId.
      for (const accountId of [...(await patientLogins())].filter((n) => !s.before.has(n))) {
        const account = await item(`ACCOUNT#${accountId}`, 'ACCOUNT');
        if (account) expect(account).toMatchObject({ proxyOnly: true, username: s.username });
        else expect(state?.status === 'Pending' && state.accountId === accountId, `login ${accountId} has no ACCOUNT# item and no pending link that completes it`).toBe(true);
      }
      if (grant!.status === 'Active') {
        expect(state?.status).toBe('Used');
        expect(await item(`ACCOUNT#${grant!.accountId}`, `RECORD#${s.patientId}`)).toMatchObject({ proxyId: s.proxyId, role: 'proxy' });
      } else {
        expect(grant!.status).toBe('Invited');
        expect(state?.status).toBe('Pending');
        expect(state?.lease).toBeUndefined();
        expect(await lookup(s.token)).toBe(200);
      }
    },
    async outcome(s, success) {
      const [grant] = await grantsOf(s.patientId);
      const session = await signIn(s.username, proxyPassword);
      const me = await api('/account', { token: session.json.accessToken });
      return {
        grant: grant!.status,
        accountIdAnswered: success.json.accountId === grant!.accountId,
        link: await lookup(s.token),
        signIn: session.status,
        records: me.json.records.map((r: { role: string; scope: string }) => [r.role, r.scope]),
        login: await login(grant!.accountId),
        // The record itself is not changed by a proxy's acceptance beyond its version.
        recordAccount: (await portalRecord(s.patientId)).accountId ?? null,
      };
    },
  });
});
