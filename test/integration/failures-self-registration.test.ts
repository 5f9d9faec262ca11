/**
 * Security rules 24 and 35 for self-registration (issue 19): each backend call of the request,
 * the verification, the approval and the rejection failing in turn (refused, or done with its
 * answer lost), and DynamoDB staying busy. Half state here means:
 *   - request: a live link without its request, or a request claiming the address without a link
 *     the person can open (the person's retry must end with one working link);
 *   - verify: a Pending request still holding its link, or an Unverified one without it;
 *   - approve: the request Approved without the record carrying its email and a pending
 *     email-match link, or the other way round;
 *   - reject: the request Rejected while still holding the address.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { routes, type RouteId } from '../../lib/routes.ts';
import { requestEmailHash } from '../../lambdas/domain/self-registration.ts';
import type { Answer } from '../support/events.ts';
import { defineFlowTests, event, freshAddress, handlerOf, invoke, item, staffSessions, useInProcessHandlers } from './support/failure-flows.ts';
import { api, mailbox } from './support/stack.ts';

useInProcessHandlers();

const handlers = new Map<RouteId, Awaited<ReturnType<typeof handlerOf>>>();
async function send(id: RouteId, opts: { token?: string; sourceIp: string; params?: Record<string, string>; body?: unknown }): Promise<Answer> {
  const r = routes.find((x) => x.id === id)!;
  if (!handlers.has(id)) handlers.set(id, await handlerOf(() => import(resolve(r.entry)) as Promise<{ handler: unknown }>));
  const path = r.path.replace(/\{(\w+)\}/g, (_, k: string) => opts.params?.[k] ?? '');
  return invoke(
    handlers.get(id)!,
    event({
      method: r.method,
      resource: r.path,
      path,
      sourceIp: opts.sourceIp,
      ...(opts.params ? { pathParameters: opts.params } : {}),
      ...(opts.token ? { token: opts.token } : {}),
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    }),
  );
}

beforeAll(async () => {
  const { admin } = await staffSessions();
  expect((await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: true } })).status).toBe(200);
});
afterAll(async () => {
  const { admin } = await staffSessions();
  await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: false } });
});

const person = () => {
  const tag = randomUUID().slice(0, 8);
  return { firstName: 'Grace', lastName: `Hopper-${tag}`, dateOfBirth: '1970-12-09', email: `f24sr-${tag}@example.test` };
};
const tokensIn = async (email: string, path: string) => {
  const pattern = new RegExp(`${path}#token=([A-Za-z0-9_-]+)`);
  return (await mailbox(email)).flatMap((m) => pattern.exec(m.body.text ?? '')?.[1] ?? []);
};
const requestItem = (requestId: string) => item(`SELFREG#${requestId}`, 'REQUEST');
const openClaim = (email: string) => item(`SELFREGEMAIL#${requestEmailHash(email)}`, 'OPEN');

/** Asked and proved through the local API (not counted): a Pending request and its id. */
async function pendingRequest() {
  const body = person();
  expect((await api('/self-registrations', { method: 'POST', body })).status).toBe(202);
  const [token] = await tokensIn(body.email, '/portal/self-register');
  expect((await api('/self-registrations/verify', { method: 'POST', body: { token } })).status).toBe(200);
  const { staff } = await staffSessions();
  const found = (await api('/self-registrations?status=Pending&limit=100', { token: staff })).json.items.find((i: { email: string }) => i.email === body.email);
  expect(found).toBeDefined();
  return { ...body, requestId: found.requestId as string };
}

describe('self-registration request: POST /self-registrations', () => {
  type S = ReturnType<typeof person> & { sourceIp: string };
  const ask = (s: S) => send('self-registration-request', { sourceIp: s.sourceIp, body: { firstName: s.firstName, lastName: s.lastName, dateOfBirth: s.dateOfBirth, email: s.email } });
  defineFlowTests<S>({
    name: 'self-registration request',
    route: 'self-registration-request',
    calls: [
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // throttle: the address's hour
      'DynamoDB GetItem', // and the source's window
      'DynamoDB UpdateItem',
      'DynamoDB UpdateItem',
      'DynamoDB GetItem', // the address's open request
      'DynamoDB TransactWriteItems', // request, claim, link
      'SES SendEmail',
    ],
    ok: 202,
    setup: async () => ({ ...person(), sourceIp: freshAddress() }),
    send: ask,
    async noHalfState(s) {
      const claim = await openClaim(s.email);
      if (!claim) return;
      // A claim names a request that exists, Unverified, whose link pointer exists.
      const req = await requestItem(claim.requestId);
      expect(req?.status).toBe('Unverified');
      expect(await item(`SELFREGLINK#${req!.tokenHash}`, 'LINK')).toBeDefined();
    },
    // The answer is the same 202 whatever failed inside (rule 13): a person who got no email asks again.
    async finish(s) {
      if ((await tokensIn(s.email, '/portal/self-register')).length === 0) {
        expect((await ask(s)).status).toBe(202);
      }
    },
    async outcome(s, success) {
      const tokens = await tokensIn(s.email, '/portal/self-register');
      const last = await api('/self-registrations/verify', { method: 'POST', body: { token: tokens.at(-1) } });
      return { answer: success.json, lastLinkWorks: last.status, pending: (await requestItem((await openClaim(s.email))!.requestId))?.status };
    },
  });
});

describe('self-registration verify: POST /self-registrations/verify', () => {
  type S = { email: string; token: string; sourceIp: string };
  defineFlowTests<S>({
    name: 'self-registration verify',
    route: 'self-registration-verify',
    calls: [
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // throttle: the link's counter
      'DynamoDB GetItem', // and the source's window
      'DynamoDB GetItem', // link pointer
      'DynamoDB GetItem', // request
      'DynamoDB TransactWriteItems', // Pending, listed, link gone, claim kept, audit
      'DynamoDB GetItem', // settings: the practice notice, which never fails the flow
    ],
    ok: 200,
    async setup() {
      const body = person();
      expect((await api('/self-registrations', { method: 'POST', body })).status).toBe(202);
      const [token] = await tokensIn(body.email, '/portal/self-register');
      return { email: body.email, token: token!, sourceIp: freshAddress() };
    },
    send: (s) => send('self-registration-verify', { sourceIp: s.sourceIp, body: { token: s.token } }),
    // The commit happened with its answer lost: the link is used, and says so.
    alreadyDone: [{ status: 410, type: /link-gone$/ }],
    async noHalfState(s) {
      const claim = await openClaim(s.email);
      const req = await requestItem(claim!.requestId);
      const pointer = req?.tokenHash ? await item(`SELFREGLINK#${req.tokenHash}`, 'LINK') : undefined;
      if (req?.status === 'Pending') {
        expect(req.tokenHash).toBeUndefined();
        expect(await item(`SELFREGLIST#Pending`, `${req.createdAt}#${req.requestId}`)).toBeDefined();
      } else {
        expect(req?.status).toBe('Unverified');
        expect(pointer).toBeDefined();
      }
    },
    async outcome(s, success) {
      const claim = await openClaim(s.email);
      const req = await requestItem(claim!.requestId);
      return { status: req?.status, answered: success.status === 200 ? success.json : { status: req?.status }, again: (await api('/self-registrations/verify', { method: 'POST', body: { token: s.token } })).status };
    },
  });
});

describe('self-registration approve: POST /self-registrations/{requestId}/approve', () => {
  type S = Awaited<ReturnType<typeof pendingRequest>> & { patientId: string; sourceIp: string };
  defineFlowTests<S>({
    name: 'self-registration approve',
    route: 'self-registration-approve',
    calls: [
      'DynamoDB GetItem', // the caller's staff record
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // request
      'DynamoDB GetItem', // record
      'DynamoDB GetItem', // email-match state
      'DynamoDB TransactWriteItems', // request Approved, list moved, claim freed, record, link, audit
      'SES SendEmail',
    ],
    ok: 200,
    async setup() {
      return { ...(await pendingRequest()), patientId: `F24SR-${randomUUID().slice(0, 8)}`, sourceIp: freshAddress() };
    },
    send: async (s) => send('self-registration-approve', { token: (await staffSessions()).staff, sourceIp: s.sourceIp, params: { requestId: s.requestId }, body: { patientId: s.patientId } }),
    async noHalfState(s) {
      const req = await requestItem(s.requestId);
      const rec = await item(`PATIENT#${s.patientId}`, 'RECORD');
      const link = await item(`EMAILMATCH#${s.patientId}`, 'STATE');
      if (req?.status === 'Approved') {
        expect(rec?.email).toBe(s.email);
        expect(link?.status).toBe('Pending');
        expect(await item(`EMAILMATCHLINK#${link!.tokenHash}`, 'LINK')).toBeDefined();
        expect(await openClaim(s.email)).toBeUndefined();
      } else {
        expect(req?.status).toBe('Pending');
        expect(rec).toBeUndefined();
        expect(link).toBeUndefined();
      }
    },
    lostAnswerLimits: {
      6: {
        consequence: 'the approval stands (409 already decided on a retry) and no email went out: staff see it Approved and invite the record',
        async check(s) {
          const again = await send('self-registration-approve', { token: (await staffSessions()).staff, sourceIp: s.sourceIp, params: { requestId: s.requestId }, body: { patientId: s.patientId } });
          expect(again.status).toBe(409);
          expect((await requestItem(s.requestId))?.status).toBe('Approved');
          expect((await item(`PATIENT#${s.patientId}`, 'RECORD'))?.email).toBe(s.email);
        },
      },
    },
    async outcome(s, success) {
      const req = await requestItem(s.requestId);
      const { admin } = await staffSessions();
      const trail = (await api(`/patients/${s.patientId}/portal/audit`, { token: admin })).json.items.map((i: { action: string }) => i.action);
      // Emailed, or the failure is on the audit trail: never lost unmarked.
      const told = (await tokensIn(s.email, '/portal/verify')).length === 1 || trail.includes('self-registration.approval-email-failed');
      return { answer: { patientId: success.json.patientId === s.patientId, email: success.json.email === s.email }, status: req?.status, told, audited: trail.includes('self-registration.approved') };
    },
  });
});

describe('self-registration reject: POST /self-registrations/{requestId}/reject', () => {
  type S = Awaited<ReturnType<typeof pendingRequest>> & { sourceIp: string };
  defineFlowTests<S>({
    name: 'self-registration reject',
    route: 'self-registration-reject',
    calls: [
      'DynamoDB GetItem', // the caller's staff record
      'DynamoDB GetItem', // settings
      'DynamoDB GetItem', // request
      'DynamoDB TransactWriteItems', // request Rejected, list moved, claim freed, audit
      'SES SendEmail',
    ],
    ok: 200,
    setup: async () => ({ ...(await pendingRequest()), sourceIp: freshAddress() }),
    send: async (s) => send('self-registration-reject', { token: (await staffSessions()).staff, sourceIp: s.sourceIp, params: { requestId: s.requestId }, body: { reason: 'unknown to us' } }),
    async noHalfState(s) {
      const req = await requestItem(s.requestId);
      if (req?.status === 'Rejected') expect(await openClaim(s.email)).toBeUndefined();
      else expect((await openClaim(s.email))?.requestId).toBe(s.requestId);
    },
    lostAnswerLimits: {
      4: {
        consequence: 'the rejection stands (409 already decided on a retry) and the person is not emailed',
        async check(s) {
          const again = await send('self-registration-reject', { token: (await staffSessions()).staff, sourceIp: s.sourceIp, params: { requestId: s.requestId }, body: { reason: 'unknown to us' } });
          expect(again.status).toBe(409);
          expect((await requestItem(s.requestId))?.status).toBe('Rejected');
        },
      },
    },
    async outcome(s, success) {
      return { answer: { status: success.json.status }, status: (await requestItem(s.requestId))?.status, claim: await openClaim(s.email) };
    },
  });
});
