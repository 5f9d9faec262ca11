/**
 * Security rules 24 and 35 for phone codes (issue 17): POST /invitations/phone-code with each
 * backend call failing in turn (refused, or done with its answer lost), DynamoDB staying busy,
 * and registration with a texted code instead of the PIN.
 *
 * What the product guarantees for a text (lambdas/domain/phone-codes.ts): a send is CLAIMED (one
 * conditional write: the code's keyed hash and the send time, with the audit entry) before the
 * text goes out, so never more than 3 texts an hour go out, whatever fails. The price: a claim
 * whose text then fails (or whose answer is lost) uses up one of the 3 with no text. So "no half
 * state" here means:
 *   - one request, whatever failed inside it, uses at most ONE of the hour's 3 sends, so the
 *     person can always ask again (and the PIN keeps working: the invitation stays Pending, its
 *     try counters untouched);
 *   - a counted send stores the hash of the very code texted (the newest code replaces any
 *     earlier one), so the last text that arrived is the code that works;
 *   - the answer is the one 202 whenever the link was looked up and SMS refused (rule 13: it
 *     never says whether a text went out); a failed DynamoDB call is a clean 500, a busy table
 *     503 with Retry-After (rule 35).
 * After any failure the person's next request texts a working code, and registering with it
 * (no PIN) succeeds.
 *
 * Locally the code's key is an HMAC key derived from the PIN key file, so the KMS GenerateMac
 * that AWS makes is not among the calls here (no KMS emulator): it runs before the claim, so its
 * failure writes nothing (test/unit/domain/phone-codes.test.ts, "each backend call failing in turn",
 * fails the MAC on fakes).
 */
import { randomUUID } from 'node:crypto';
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

const password = 'velvet harbour thistle compass';
let phoneSeq = Math.floor(Math.random() * 1_000_000);
/** A unique number per record, so outbox texts are told apart. */
const newPhone = () => `+1555${String(phoneSeq++ % 10_000_000).padStart(7, '0')}`;

let request: Awaited<ReturnType<typeof handlerOf>>;
let register: Awaited<ReturnType<typeof handlerOf>>;

beforeAll(async () => {
  // The handlers run in this worker: texts go to the local stack's SMS outbox through the SMS adapter.
  process.env.SMS_ENDPOINT = stack().smsOutboxUrl!;
  process.env.SMS_ORIGINATION_IDENTITY ??= 'local-sms-outbox';
  request = await handlerOf(() => import('../../lambdas/handlers/phone-codes/request.ts'));
  register = await handlerOf(() => import('../../lambdas/handlers/registration/create.ts'));
  const { admin } = await staffSessions();
  expect((await api('/settings', { method: 'PUT', token: admin, body: { phoneCodes: true } })).status).toBe(200);
});
afterAll(async () => {
  const { admin } = await staffSessions();
  await api('/settings', { method: 'PUT', token: admin, body: { phoneCodes: false } });
});

async function texts(to: string): Promise<string[]> {
  const res = await fetch(stack().smsOutboxUrl!);
  const json = (await res.json()) as { messages: { to: string; body: string }[] };
  return json.messages.filter((m) => m.to === to).map((m) => m.body);
}
const codes = async (phone: string) => (await texts(phone)).flatMap((t) => /\b(\d{6})\b/.exec(t)?.[1] ?? []);

/** A record with a phone and a pending invitation, made through the API (not counted). */
async function invited(prefix: string) {
  const phone = newPhone();
  const p = await newRecord(prefix, { phone });
  const { staff } = await staffSessions();
  const res = await api(`/patients/${p.patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(res.status).toBe(201);
  const token = /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec((await mailbox(p.email)).at(-1)?.body.text ?? '')?.[1];
  expect(token).toBeDefined();
  return { ...p, phone, pin: res.json.pin as string, token: token!, sourceIp: freshAddress() };
}

const invitation = (patientId: string) => item(`INVITE#${patientId}`, 'INVITATION');
const linkStatus = async (token: string) => (await api('/invitations/lookup', { method: 'POST', body: { token } })).status;
const ask = (s: { token: string; sourceIp: string }): Promise<Answer> =>
  invoke(request, event({ method: 'POST', resource: '/invitations/phone-code', path: '/invitations/phone-code', sourceIp: s.sourceIp, body: { token: s.token } }));

describe('phone-code request: POST /invitations/phone-code', () => {
  type S = Awaited<ReturnType<typeof invited>>;
  defineFlowTests<S>({
    name: 'phone-code request',
    route: 'phone-code-request',
    calls: [
      'DynamoDB GetItem', // link throttle: the token's counter
      'DynamoDB GetItem', // and the address's
      'DynamoDB GetItem', // link
      'DynamoDB GetItem', // invitation
      'DynamoDB GetItem', // record
      'DynamoDB GetItem', // settings
      'DynamoDB TransactWriteItems', // the claim: code hash and send time, audit
      'SMS SendTextMessage',
    ],
    ok: 202,
    setup: () => invited('F24PC'),
    send: ask,
    async noHalfState(s, answer) {
      if (answer.status === 202) expect(answer.json.message).toMatch(/code is on its way/);
      const inv = await invitation(s.patientId);
      // The invitation is untouched but for the code: still Pending, the PIN still good, no lease.
      expect(inv?.status).toBe('Pending');
      expect(inv?.lease).toBeUndefined();
      expect(inv?.secrets?.pin).toBeDefined();
      // One request uses at most one of the hour's 3 sends: the person can always ask again.
      const sends: string[] = inv?.phoneSends ?? [];
      const received = (await texts(s.phone)).length;
      expect(received).toBeLessThanOrEqual(sends.length);
      expect(sends.length, 'counted sends without a text: at most the one of this request').toBeLessThanOrEqual(received + 1);
      // A counted send stores a code (the newest one), never anything without a send.
      if (sends.length > 0) expect(inv?.secrets?.phoneCode).toMatch(/^v1\.\d+\./);
      else expect(inv?.secrets?.phoneCode).toBeUndefined();
    },
    // The 202 says nothing of a text (rule 13): a person whose phone got nothing asks again.
    async finish(s) {
      if ((await texts(s.phone)).length === 0) expect((await ask(s)).status).toBe(202);
    },
    async outcome(s, success) {
      const inv = await invitation(s.patientId);
      const sent = await codes(s.phone);
      const username = `f24pc-${s.patientId.slice(-8).toLowerCase()}`;
      // Hostile beside the happy one: a code that was not texted is refused (one of the 5 tries).
      const wrongCode = String((Number(sent.at(-1)) + 1) % 1_000_000).padStart(6, '0');
      const refused = await api('/registrations', { method: 'POST', body: { token: s.token, phoneCode: wrongCode, username, password } });
      const done = await api('/registrations', { method: 'POST', body: { token: s.token, phoneCode: sent.at(-1), username, password } });
      return {
        answer: success.json,
        wrongCode: refused.status,
        aTextArrived: sent.length >= 1,
        atMostTwoSendsUsed: (inv?.phoneSends ?? []).length <= 2,
        registeredWithTheLastCode: done.status,
        signIn: (await api('/sessions', { method: 'POST', body: { username, password } })).status,
      };
    },
  });
});

describe('registration with a phone code: POST /registrations', () => {
  type S = Awaited<ReturnType<typeof invited>> & { code: string; username: string; before: Set<string> };
  defineFlowTests<S>({
    name: 'registration with a phone code',
    route: 'registration-create',
    calls: [
      'DynamoDB BatchGetItem', // issue 16: link and try throttle counters (the token's and the address's), the link, username free?
      'DynamoDB BatchGetItem', // invitation + record + settings (for the practice notice, issue 19: no read after the commit)
      'DynamoDB UpdateItem', // lease + accountId + the try (the PIN's and the code's), one write before the compare (rule 5)
      'Cognito AdminCreateUser',
      'Cognito AdminSetUserPassword',
      'DynamoDB TransactWriteItems', // record (conditional on the version read), invitation, link, account, username, audit
    ],
    ok: 201,
    async setup() {
      const s = await invited('F24PR');
      expect((await api('/invitations/phone-code', { method: 'POST', body: { token: s.token } })).status).toBe(202);
      const [code] = await codes(s.phone);
      expect(code).toBeDefined();
      return { ...s, code: code!, username: `f24pr-${s.patientId.slice(-8).toLowerCase()}`, before: await patientLogins() };
    },
    send: (s) =>
      invoke(register, event({ method: 'POST', resource: '/registrations', path: '/registrations', sourceIp: s.sourceIp, body: { token: s.token, phoneCode: s.code, username: s.username, password } })),
    async noHalfState(s) {
      await expectNoOrphanLogins(s.before, s.patientId);
      const rec = await portalRecord(s.patientId);
      const inv = await invitation(s.patientId);
      if (rec.registration === 'NormalRegistration') {
        expect(inv?.status).toBe('Used');
        expect(rec.accountId).toBe(inv!.accountId);
        expect(await login(rec.accountId)).toEqual({ exists: true, enabled: true });
      } else {
        // Not burned: still pending with its code, the link still works, no lease left behind.
        expect(inv?.status).toBe('Pending');
        expect(inv?.lease).toBeUndefined();
        expect(inv?.secrets?.phoneCode).toBeDefined();
        expect(await linkStatus(s.token)).toBe(200);
      }
    },
    async outcome(s, success) {
      const rec = await portalRecord(s.patientId);
      const inv = await invitation(s.patientId);
      return {
        answered: { usernameIsTheChosenOne: success.json.username === s.username, accountIdIsTheRecords: success.json.accountId === rec.accountId },
        registration: rec.registration,
        invitation: inv?.status,
        link: await linkStatus(s.token),
        signIn: (await api('/sessions', { method: 'POST', body: { username: s.username, password } })).status,
        login: await login(rec.accountId),
      };
    },
  });
});
