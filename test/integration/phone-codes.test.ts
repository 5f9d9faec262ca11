/**
 * Phone codes over HTTP against the local stack (issue 17, rule 33): the code texted to the
 * SMS outbox replaces the PIN; wrong codes share the PIN's 5 tries; 20 requests at once send at
 * most 3 texts; one 202 body with and without a phone; the code dies after registration,
 * resend, cancel, an email change and a phone change; the lookup's `needs`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox, setClockOffset, stack } from './support/stack.ts';
import { staffSession } from './support/staff-session.ts';

let admin: string;
let staff: string;
const password = 'correct horse battery staple meadow';
let phoneSeq = Math.floor(Math.random() * 1_000_000);
/** A unique US number per record, so outbox messages are told apart. */
const newPhone = () => `+1555${String(phoneSeq++ % 10_000_000).padStart(7, '0')}`;

beforeAll(async () => {
  admin = (await staffSession('admin')).accessToken;
  staff = (await staffSession('staff')).accessToken;
  const on = await api('/settings', { method: 'PUT', token: admin, body: { phoneCodes: true } });
  expect(on.status).toBe(200);
});

afterAll(async () => {
  await api('/settings', { method: 'PUT', token: admin, body: { phoneCodes: false } });
});

afterEach(async () => {
  await setClockOffset(0);
});

async function outbox(to: string): Promise<{ to: string; body: string; at: string }[]> {
  const res = await fetch(stack().smsOutboxUrl!);
  const json = (await res.json()) as { messages: { to: string; body: string; at: string }[] };
  return json.messages.filter((m) => m.to === to);
}

async function codeFor(phone: string): Promise<string> {
  const last = (await outbox(phone)).at(-1);
  const code = /\b(\d{6})\b/.exec(last?.body ?? '')?.[1];
  if (!code) throw new Error('no code in the outbox');
  return code;
}

async function tokenIn(email: string): Promise<string> {
  const text = (await mailbox(email)).at(-1)?.body.text ?? '';
  const token = /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!token) throw new Error('no invitation link');
  return token;
}

async function invited(change: Record<string, unknown> = {}) {
  const patientId = `PHC-${randomUUID().slice(0, 8)}`;
  const email = `${patientId.toLowerCase()}@example.test`;
  const phone = newPhone();
  const put = await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, phone, cases: ['C-1'], ...change } });
  expect(put.status).toBe(200);
  const res = await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(res.status).toBe(201);
  return { patientId, email, phone, pin: res.json.pin as string, token: await tokenIn(email) };
}

const askCode = (token: string) => api('/invitations/phone-code', { method: 'POST', body: { token } });
const register = (body: Record<string, unknown>) => api('/registrations', { method: 'POST', body: { username: `pc-${randomUUID().slice(0, 8)}`, password, ...body } });
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('phone codes', () => {
  it('GET /settings says phone codes are available locally (the SMS outbox); lookup offers the code only with an E.164 phone', async () => {
    const settings = await api('/settings', { token: staff });
    expect(settings.json).toMatchObject({ phoneCodes: true, phoneCodesAvailable: true });
    const withPhone = await invited();
    expect((await api('/invitations/lookup', { method: 'POST', body: { token: withPhone.token } })).json.needs).toEqual(['pin', 'phoneCode']);
    const without = await invited({ phone: null });
    expect((await api('/invitations/lookup', { method: 'POST', body: { token: without.token } })).json.needs).toEqual(['pin']);
  });

  it('happy path: ask → the text (practice name and code only) in the outbox → register with the code, no PIN → sign in', async () => {
    const p = await invited();
    const res = await askCode(p.token);
    expect(res.status).toBe(202);
    const [text] = await outbox(p.phone);
    expect(text).toBeDefined();
    expect(text!.body).toMatch(/\b\d{6}\b/);
    expect(text!.body).not.toMatch(/https?:|token|#/);
    expect(text!.body).not.toContain(p.patientId);
    const username = `pc-${randomUUID().slice(0, 8)}`;
    const done = await api('/registrations', { method: 'POST', body: { token: p.token, phoneCode: await codeFor(p.phone), username, password } });
    expect(done.status).toBe(201);
    expect((await api('/sessions', { method: 'POST', body: { username, password } })).status).toBe(200);
    // Registered: the link (and its code) is dead.
    expect((await register({ token: p.token, phoneCode: await codeFor(p.phone) })).status).toBe(410);
  });

  it('registration takes exactly one of pin and phoneCode', async () => {
    const p = await invited();
    expect((await register({ token: p.token, pin: p.pin, phoneCode: '123456' })).status).toBe(400);
    expect((await register({ token: p.token })).status).toBe(400);
  });

  it('rule 33: wrong codes share the PIN 5 tries: 2 wrong codes + 2 wrong PINs + 1 wrong code lock the link', async () => {
    const p = await invited();
    await askCode(p.token);
    const code = await codeFor(p.phone);
    const first = await register({ token: p.token, phoneCode: wrong(code) });
    expect(first.status).toBe(401);
    const second = await register({ token: p.token, phoneCode: wrong(wrong(code)) });
    expect(second.json).toEqual(first.json);
    expect((await register({ token: p.token, pin: 'WRONG2' })).status).toBe(401);
    expect((await register({ token: p.token, pin: 'WRONG3' })).status).toBe(401);
    expect((await register({ token: p.token, phoneCode: '000000' === code ? '000001' : '000000' })).status).toBe(401);
    expect((await register({ token: p.token, phoneCode: code })).status).toBe(410);
    expect((await register({ token: p.token, pin: p.pin })).status).toBe(410);
  });

  it('rule 33: 20 code requests at once send at most 3 texts, and later ones within the hour none', async () => {
    const p = await invited();
    const answers = await Promise.all(Array.from({ length: 20 }, () => askCode(p.token)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    for (let i = 0; i < 5; i++) await askCode(p.token);
    const texts = await outbox(p.phone);
    expect(texts.length).toBeGreaterThanOrEqual(1);
    expect(texts.length).toBeLessThanOrEqual(3);
    expect((await outbox(p.phone)).length).toBe(3);
    // An hour later the budget is back.
    await setClockOffset(61 * 60 * 1000);
    await askCode(p.token);
    expect((await outbox(p.phone)).length).toBe(4);
  });

  it('rules 13 and 33: one 202 body with a phone, without one, for a dead link and for junk', async () => {
    const withPhone = await invited();
    const without = await invited({ phone: null });
    const answers = await Promise.all([askCode(withPhone.token), askCode(without.token), askCode('x'.repeat(43))]);
    for (const a of answers) {
      expect(a.status).toBe(202);
      expect(a.json).toEqual(answers[0]!.json);
    }
    expect((await outbox(withPhone.phone)).length).toBe(1);
  });

  it('rule 33: a code works 10 minutes', async () => {
    const p = await invited();
    await askCode(p.token);
    await setClockOffset(10 * 60 * 1000 + 1000);
    expect((await register({ token: p.token, phoneCode: await codeFor(p.phone) })).status).toBe(401);
  });

  it('rule 33: a newer code replaces the earlier one', async () => {
    const p = await invited();
    await askCode(p.token);
    const old = await codeFor(p.phone);
    await askCode(p.token);
    const fresh = await codeFor(p.phone);
    if (old !== fresh) expect((await register({ token: p.token, phoneCode: old })).status).toBe(401);
    expect((await register({ token: p.token, phoneCode: fresh })).status).toBe(201);
  });

  describe('the code is dead after', () => {
    it('a resend (the new link with the old code: 401; a new code works)', async () => {
      const p = await invited();
      await askCode(p.token);
      const code = await codeFor(p.phone);
      expect((await api(`/patients/${p.patientId}/portal/invitation/resend`, { method: 'POST', token: staff })).status).toBe(200);
      const token = await tokenIn(p.email);
      expect(token).not.toBe(p.token);
      expect((await register({ token: p.token, phoneCode: code })).status).toBe(410);
      expect((await register({ token, phoneCode: code })).status).toBe(401);
      await askCode(token);
      expect((await register({ token, phoneCode: await codeFor(p.phone) })).status).toBe(201);
    });

    it('a cancel', async () => {
      const p = await invited();
      await askCode(p.token);
      expect((await api(`/patients/${p.patientId}/portal/invitation`, { method: 'DELETE', token: staff })).status).toBe(200);
      expect((await register({ token: p.token, phoneCode: await codeFor(p.phone) })).status).toBe(410);
    });

    it('an email change', async () => {
      const p = await invited();
      await askCode(p.token);
      expect((await api(`/patients/${p.patientId}/portal`, { method: 'PUT', token: staff, body: { email: `new-${p.email}` } })).status).toBe(200);
      expect((await register({ token: p.token, phoneCode: await codeFor(p.phone) })).status).toBe(410);
    });

    it('a phone change (the link and the PIN still work; a code to the new phone works)', async () => {
      const p = await invited();
      await askCode(p.token);
      const code = await codeFor(p.phone);
      const phone = newPhone();
      expect((await api(`/patients/${p.patientId}/portal`, { method: 'PUT', token: staff, body: { phone } })).status).toBe(200);
      expect((await register({ token: p.token, phoneCode: code })).status).toBe(401);
      await askCode(p.token);
      expect((await register({ token: p.token, phoneCode: await codeFor(phone) })).status).toBe(201);
    });
  });
});
