/**
 * The mixed workload: one autocannon instance per flow, all running at once, each with its own
 * connections, so the mix is set by connection counts and one slow flow cannot starve the
 * others' share. A flow is a sequence of requests on each connection (autocannon's `requests`
 * with `setupRequest`/`onResponse` and a per-connection context); bodies are built per request.
 *
 * Latency per route: autocannon measures each response (its `response` event); the request's
 * own `onResponse` runs synchronously just before that event, so it names the route.
 */
import autocannon from 'autocannon';
import type { Ledger } from './ledger.ts';
import { newPassword, patientFor, usernameFor, type Invitation, type Patient, type Registered } from './prepare.ts';
import type { LoadStats } from './stats.ts';

export interface FlowSettings {
  apiUrl: string;
  seconds: number;
  staffToken: string;
  /** Registered patients that sign in and ask for resets, round robin. */
  accounts: readonly Registered[];
  ledger: Ledger;
  stats: LoadStats;
}

export interface FlowResult {
  flow: string;
  connections: number;
  /** Connection errors and timeouts: requests that never got an answer. */
  errors: number;
  timeouts: number;
}

type Req = autocannon.Request;
type Ctx = { patient?: Patient; invitation?: Invitation; username?: string; password?: string };

/** Connections per flow: the mix. Sign-in is what patients do most. */
export const connections = { 'sign-in': 4, invite: 2, register: 2, reset: 2 } as const;

/** API Gateway gives up after 29 s (a 504); so does the load, and counts it as a failure. */
const TIMEOUT_SECONDS = 30;

export const routes = {
  signIn: 'POST /sessions',
  recordPut: 'PUT /patients/{id}/portal',
  invite: 'POST /patients/{id}/portal/invitation',
  check: 'POST /invitations/lookup',
  register: 'POST /registrations',
  reset: 'POST /credential-resets',
  /** Sent by the register flow only when no invitation was ready; not part of the mix. */
  filler: 'GET /health (register filler)',
} as const;

const json = (value: unknown) => JSON.stringify(value);

export async function runFlows(settings: FlowSettings): Promise<FlowResult[]> {
  for (const route of Object.values(routes)) if (route !== routes.filler) settings.stats.declare(route);
  return Promise.all([signInFlow(settings), inviteFlow(settings), registerFlow(settings), resetFlow(settings)]);
}

function signInFlow(s: FlowSettings) {
  let next = 0;
  return runFlow(s, 'sign-in', [
    {
      method: 'POST',
      path: '/sessions',
      setupRequest: (req: Req) => {
        const account = s.accounts[next++ % s.accounts.length]!;
        return { ...req, body: json({ username: account.username, password: account.password }) };
      },
      onResponse: answer(routes.signIn, [200]),
    },
  ]);
}

function inviteFlow(s: FlowSettings) {
  let next = 0;
  // A fresh object per request: autocannon writes Content-Length into the headers it is given,
  // so a shared object would carry the PUT's length onto the bodiless POST, which then hangs.
  const staff = () => ({ authorization: `Bearer ${s.staffToken}`, 'content-type': 'application/json' });
  return runFlow(s, 'invite', [
    {
      method: 'PUT',
      setupRequest: (req: Req, ctx: Ctx) => {
        const patient = patientFor('inv', next++);
        ctx.patient = patient;
        return { ...req, headers: staff(), path: `/patients/${patient.patientId}/portal`, body: json({ email: patient.email, cases: ['LOAD-1'] }) };
      },
      onResponse: answer(routes.recordPut, [200], (status, _body, ctx) => {
        if (status === 200) s.ledger.records.set(ctx.patient!.patientId, ctx.patient!.email);
      }),
    },
    {
      method: 'POST',
      setupRequest: (req: Req, ctx: Ctx) => ({ ...req, headers: staff(), path: `/patients/${ctx.patient!.patientId}/portal/invitation`, body: '' }),
      onResponse: answer(routes.invite, [201], (status, body, ctx) => {
        if (status === 201) s.ledger.invited(ctx.patient!, (JSON.parse(body) as { pin: string }).pin);
      }),
    },
  ]);
}

function registerFlow(s: FlowSettings) {
  let next = 0;
  return runFlow(s, 'register', [
    {
      setupRequest: (req: Req, ctx: Ctx) => {
        const invitation = s.ledger.takeReady();
        // Own headers each time: autocannon writes Content-Length into the object it is given,
        // and a GET that kept the POST's length would hang its connection.
        const headers = Object.fromEntries(Object.entries(req.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'content-length'));
        if (!invitation) return { ...req, headers, method: 'GET', path: '/health', body: undefined };
        ctx.invitation = invitation;
        // The link's token in the body, never the URL (rule 26).
        return { ...req, headers, method: 'POST', path: '/invitations/lookup', body: json({ token: invitation.token }) };
      },
      onResponse: (status: number, body: string, ctx: object) =>
        (ctx as Ctx).invitation ? answer(routes.check, [200])(status, body, ctx) : answer(routes.filler, [200])(status, body, ctx),
    },
    {
      method: 'POST',
      path: '/registrations',
      // No invitation (the filler ran): returning nothing makes autocannon start the sequence again.
      setupRequest: ((req: Req, ctx: Ctx) => {
        const invitation = ctx.invitation;
        if (!invitation) return undefined;
        ctx.username = usernameFor('reg', next++);
        ctx.password = newPassword();
        s.ledger.registrationsUnconfirmed.add(invitation.patientId);
        return { ...req, body: json({ token: invitation.token, pin: invitation.pin, username: ctx.username, password: ctx.password }) };
      }) as unknown as Req['setupRequest'],
      onResponse: answer(routes.register, [201], (status, body, ctx) => {
        if (status !== 201) return;
        const { patientId, email } = ctx.invitation!;
        s.ledger.registrationsUnconfirmed.delete(patientId);
        const accountId = (JSON.parse(body) as { accountId: string }).accountId;
        s.ledger.registrations.set(patientId, { patientId, email, username: ctx.username!, password: ctx.password!, accountId });
      }),
    },
  ]);
}

function resetFlow(s: FlowSettings) {
  let next = 0;
  return runFlow(s, 'reset', [
    {
      method: 'POST',
      path: '/credential-resets',
      setupRequest: (req: Req) => {
        const n = next++;
        // One in four names no login (a typo): the same 202, by the decoy path (rule 13).
        const username = n % 4 === 3 ? usernameFor('nobody', n) : s.accounts[n % s.accounts.length]!.username;
        return { ...req, body: json({ username }) };
      },
      onResponse: answer(routes.reset, [202]),
    },
  ]);
}

// ---------------------------------------------------------------------------- plumbing

/**
 * The answer whose `response` event comes next. A request's onResponse and autocannon's
 * `response` event run back to back in one synchronous call, so no other answer (of any flow)
 * can come in between: one slot is enough.
 */
let lastAnswered: { route: string; status: number; expected: readonly number[] } | undefined;

function answer(route: string, expected: readonly number[], then?: (status: number, body: string, ctx: Ctx) => void) {
  return (status: number, body: string, ctx: object) => {
    lastAnswered = { route, status, expected };
    then?.(status, body, ctx as Ctx);
  };
}

function runFlow(s: FlowSettings, flow: keyof typeof connections, requests: Req[]): Promise<FlowResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: s.apiUrl,
        connections: connections[flow],
        duration: s.seconds,
        timeout: TIMEOUT_SECONDS,
        headers: { 'content-type': 'application/json' },
        requests,
      },
      (err: unknown, result: autocannon.Result) =>
        err ? reject(err as Error) : resolve({ flow, connections: connections[flow], errors: result.errors, timeouts: result.timeouts }),
    );
    instance.on('response', (_client, status, _bytes, latencyMs) => {
      const last = lastAnswered;
      lastAnswered = undefined;
      // Cannot happen while every request has an onResponse; if it did, the run fails visibly.
      if (!last || last.status !== status) s.stats.record(`${flow}: answer without its route`, status, latencyMs, []);
      else s.stats.record(last.route, status, latencyMs, last.expected);
    });
  });
}
