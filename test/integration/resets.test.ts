/**
 * Credential reset over HTTP on the local stack (issue 4): request → mailbox holds the link and
 * the PIN → confirm (wrong username 401, then 200) → old password refused, new one works → link
 * dead; unknown usernames look the same (status, body, time, no email); wrong PINs kill the
 * link; expiry on the test clock; other sessions end; 20 concurrent confirms; staff resets; the
 * forced credential change over a few hundred records.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, dynamodb, mailbox, setClockOffset, stack, type ApiResponse } from './support/stack.ts';
import { staffSession } from './support/staff-session.ts';

let admin: string;
let staff: string;
const first = 'lantern orchard pebble violin';
const second = 'quartz meadow harbor kettle';

beforeAll(async () => {
  admin = (await staffSession('admin')).accessToken;
  staff = (await staffSession('staff')).accessToken;
});
afterEach(() => setClockOffset(0));

const signIn = (username: string, password: string) => api('/sessions', { method: 'POST', body: { username, password } });
const requestReset = (username: string) => api('/credential-resets', { method: 'POST', body: { username } });
const confirm = (body: Record<string, unknown>) => api('/credential-resets/confirm', { method: 'POST', body });

/** A registered patient with an email and a password of their own. */
async function registered(body: Record<string, unknown> = {}) {
  const patientId = `RST-${randomUUID().slice(0, 8)}`;
  const email = `${patientId.toLowerCase()}@example.test`;
  expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-1'], ...body } })).status).toBe(200);
  const reg = await api(`/patients/${patientId}/portal/registration`, { method: 'POST', token: staff });
  expect(reg.status).toBe(201);
  const challenge = await signIn(reg.json.username, reg.json.temporaryPassword);
  const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: first } });
  expect(done.status).toBe(200);
  return { patientId, email, username: reg.json.username as string, tokens: done.json };
}

/** The link token and the PIN of the newest reset email to `email`. */
async function resetMail(email: string) {
  const mails = (await mailbox(email)).filter((m) => /Reset your/.test(m.subject));
  const text = mails.at(-1)?.body.text ?? '';
  const token = /\/portal\/reset\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  const pin = /PIN: ([A-Z0-9]{6})/.exec(text)?.[1];
  if (!token || !pin) throw new Error(`no reset email to ${email}`);
  return { token, pin, count: mails.length, text, html: mails.at(-1)?.body.html ?? '' };
}

const anotherPin = (pin: string) => (pin === '222222' ? '333333' : '222222');

async function requested() {
  const p = await registered();
  const res = await requestReset(p.username);
  expect(res.status).toBe(202);
  return { ...p, ...(await resetMail(p.email)) };
}

describe('the reset, end to end', () => {
  it('rules 9, 14, 15: email with link + PIN → wrong username 401 → right 200 without tokens → old password refused, new one works → link 410', async () => {
    const p = await requested();
    expect(p.token.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits, base64url
    expect(p.pin).toMatch(/^[2-9A-HJKMNP-Z]{6}$/);
    expect(p.text).toContain(`${stack().apiUrl}/portal/reset?token=${p.token}`);
    // rule 5/20: neither the username nor any password travels in the email
    expect(p.text).not.toContain(p.username);
    expect(p.text).not.toContain(first);

    const wrongUser = await confirm({ token: p.token, pin: p.pin, username: `${p.username}x`, newPassword: second });
    expect(wrongUser.status).toBe(401);
    expect(wrongUser.json.type).toBe('/problems/wrong-pin-or-username');

    const ok = await confirm({ token: p.token, pin: p.pin.toLowerCase(), username: p.username.toUpperCase(), newPassword: second });
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.json)).toEqual(['message']); // rule 15: no tokens, no automatic sign-in

    expect((await signIn(p.username, first)).status).toBe(401);
    expect((await signIn(p.username, second)).status).toBe(200);

    const again = await confirm({ token: p.token, pin: p.pin, username: p.username, newPassword: `${second} again` });
    expect(again.status).toBe(410);

    // rule 15: the notice, with nothing secret in it
    const notice = (await mailbox(p.email)).filter((m) => /credentials were changed/.test(m.subject));
    expect(notice).toHaveLength(1);
    const body = `${notice[0]!.body.text} ${notice[0]!.body.html}`;
    for (const secret of [p.token, p.pin, second, p.username]) expect(body).not.toContain(secret);
  });

  it('rule 3: the new password follows the rules (400 with the reason, no try used); a rename is unique and takes effect', async () => {
    const p = await requested();
    const weak = await confirm({ token: p.token, pin: p.pin, username: p.username, newPassword: `my ${p.username} password` });
    expect(weak.status).toBe(400);
    expect(weak.json.errors).toContainEqual({ path: 'body.newPassword', message: 'must not contain your username' });
    const other = await registered();
    const taken = await confirm({ token: p.token, pin: p.pin, username: p.username, newPassword: second, newUsername: other.username });
    expect(taken.status).toBe(409);
    const newName = `renamed-${randomUUID().slice(0, 6)}`;
    const ok = await confirm({ token: p.token, pin: p.pin, username: p.username, newPassword: second, newUsername: newName });
    expect(ok.status).toBe(200);
    expect((await signIn(newName, second)).status).toBe(200);
    expect((await signIn(p.username, second)).status).toBe(401);
  });

  it('rule 15: a reset ends a session signed in elsewhere', async () => {
    const p = await registered();
    // Sessions are cut off at whole seconds (tokens carry seconds): let the other session's second pass.
    await new Promise((r) => setTimeout(r, 1100));
    const elsewhere = (await signIn(p.username, first)).json;
    expect((await api('/account', { token: elsewhere.accessToken })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await requestReset(p.username)).status).toBe(202);
    const { token, pin } = await resetMail(p.email);
    expect((await confirm({ token, pin, username: p.username, newPassword: second })).status).toBe(200);
    expect((await api('/account', { token: elsewhere.accessToken })).status).toBe(401);
    expect((await api('/account', { token: p.tokens.accessToken })).status).toBe(401);
    const fresh = await signIn(p.username, second);
    expect((await api('/account', { token: fresh.json.accessToken })).status).toBe(200);
  });

  it('rule 25: 20 concurrent confirms with the right token and PIN give exactly one 200', async () => {
    const p = await requested();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => confirm({ token: p.token, pin: p.pin, username: p.username, newPassword: second })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => [200, 409, 410].includes(s))).toBe(true);
    expect((await signIn(p.username, second)).status).toBe(200);
  });
});

describe('refusals', () => {
  it('rule 7: 5 wrong PINs kill the link: 401 five times, then 410 even with the right PIN', async () => {
    const p = await requested();
    for (let i = 1; i <= 5; i++) {
      const res = await confirm({ token: p.token, pin: anotherPin(p.pin), username: p.username, newPassword: second });
      expect(res.status, `try ${i}`).toBe(401);
    }
    expect((await confirm({ token: p.token, pin: p.pin, username: p.username, newPassword: second })).status).toBe(410);
    expect((await signIn(p.username, first)).status).toBe(200);
  });

  it('rule 12: an expired link is 410 (test clock past settings.resetMinutes)', async () => {
    const p = await requested();
    const minutes = (await api('/settings', { token: staff })).json.resetMinutes as number;
    await setClockOffset((minutes + 1) * 60_000);
    expect((await confirm({ token: p.token, pin: p.pin, username: p.username, newPassword: second })).status).toBe(410);
  });

  it('rule 11: unknown, used, replaced, expired and killed links get byte-identical 410 bodies', async () => {
    const bodies: string[] = [];
    const gone = async (body: Record<string, unknown>) => {
      const res = await confirm(body);
      expect(res.status).toBe(410);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      bodies.push(res.text);
    };
    await gone({ token: 'A'.repeat(43), pin: 'ABCDEF', username: 'nobody-here', newPassword: second });
    const used = await requested();
    await confirm({ token: used.token, pin: used.pin, username: used.username, newPassword: second });
    await gone({ token: used.token, pin: used.pin, username: used.username, newPassword: first });
    const replaced = await requested();
    await requestReset(replaced.username);
    expect((await resetMail(replaced.email)).token).not.toBe(replaced.token);
    await gone({ token: replaced.token, pin: replaced.pin, username: replaced.username, newPassword: second });
    const killed = await requested();
    for (let i = 0; i < 5; i++) await confirm({ token: killed.token, pin: anotherPin(killed.pin), username: killed.username, newPassword: second });
    await gone({ token: killed.token, pin: killed.pin, username: killed.username, newPassword: second });
    const expired = await requested();
    await setClockOffset(25 * 60 * 60_000);
    await gone({ token: expired.token, pin: expired.pin, username: expired.username, newPassword: second });
    expect(new Set(bodies).size).toBe(1);
  });

  it('rules 7 and 8: a request alone locks and changes nothing and does not clear the sign-in failure counter; a completed reset does', async () => {
    const p = await registered();
    const before = (await api(`/patients/${p.patientId}/portal`, { token: staff })).json;
    for (let i = 0; i < 5; i++) expect((await signIn(p.username, `wrong guess number ${i}`)).status).toBe(401);
    expect((await requestReset(p.username)).status).toBe(202);
    expect((await api(`/patients/${p.patientId}/portal`, { token: staff })).json.version).toBe(before.version);
    expect((await signIn(p.username, first)).status).toBe(429); // still throttled: the request cleared nothing
    const { token, pin } = await resetMail(p.email);
    expect((await confirm({ token, pin, username: p.username, newPassword: second })).status).toBe(200);
    expect((await signIn(p.username, second)).status).toBe(200); // the reset is the way out (rule 5)
  });

  it('a new request replaces the earlier link; at most 3 emails per account an hour, then still 202 without email', async () => {
    const p = await registered();
    for (let i = 0; i < 5; i++) expect((await requestReset(p.username)).status).toBe(202);
    const mails = await resetMail(p.email);
    expect(mails.count).toBe(3);
    await setClockOffset(61 * 60_000);
    expect((await requestReset(p.username)).status).toBe(202);
    const later = await resetMail(p.email);
    expect(later.count).toBe(4);
    expect((await confirm({ token: mails.token, pin: mails.pin, username: p.username, newPassword: second })).status).toBe(410);
    expect((await confirm({ token: later.token, pin: later.pin, username: p.username, newPassword: second })).status).toBe(200);
  });

  it('settings.patientReset false: the same 202 and body, no email; staff resets still work', async () => {
    const p = await registered();
    const real = await requestReset('nobody-by-this-name');
    expect((await api('/settings', { method: 'PUT', token: admin, body: { patientReset: false } })).status).toBe(200);
    try {
      const off = await requestReset(p.username);
      expect(off.status).toBe(202);
      expect(off.text).toBe(real.text);
      expect(await mailbox(p.email).then((m) => m.filter((e) => /Reset your/.test(e.subject)))).toHaveLength(0);
      expect((await api(`/patients/${p.patientId}/portal/credential-reset`, { method: 'POST', token: staff })).status).toBe(202);
      expect((await resetMail(p.email)).count).toBe(1);
    } finally {
      await api('/settings', { method: 'PUT', token: admin, body: { patientReset: true } });
    }
  });
});

describe('rule 13: unknown usernames look the same', () => {
  it('same status, byte-identical body and no email for an unknown username', async () => {
    const p = await registered();
    const before = (await mailbox()).length;
    const unknown = await requestReset(`nobody-${randomUUID().slice(0, 8)}`);
    expect((await mailbox()).length).toBe(before);
    const real = await requestReset(p.username);
    expect((await mailbox()).length).toBe(before + 1);
    expect(unknown.status).toBe(202);
    expect(real.status).toBe(202);
    expect(unknown.text).toBe(real.text);
    expect(unknown.headers.get('content-type')).toBe(real.headers.get('content-type'));
  });

  it('about the same time: medians over 51 emailing requests and 51 unknown usernames', async () => {
    // 17 patients × 3 requests: every one of them sends an email (the hourly limit is 3).
    const patients = await Promise.all(Array.from({ length: 17 }, () => registered()));
    const real: number[] = [];
    const unknown: number[] = [];
    const bodies = new Set<string>();
    const timed = async (username: string, into: number[]) => {
      const t0 = performance.now();
      const res = await requestReset(username);
      into.push(performance.now() - t0);
      expect(res.status).toBe(202);
      bodies.add(res.text);
    };
    for (let round = 0; round < 3; round++) {
      for (const p of patients) {
        // One of each at a time, alternating who goes first, so load and warm-up fall on both alike.
        const pair = [() => timed(p.username, real), () => timed(`nobody-${randomUUID().slice(0, 8)}`, unknown)];
        if (real.length % 2) pair.reverse();
        for (const run of pair) await run();
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [mReal, mUnknown] = [median(real), median(unknown)];
    console.log(`rule 13 timing: real (emailed) median ${mReal.toFixed(1)} ms over ${real.length}; unknown median ${mUnknown.toFixed(1)} ms over ${unknown.length}; difference ${(mReal - mUnknown).toFixed(1)} ms`);
    expect(real.length).toBeGreaterThanOrEqual(50);
    expect(unknown.length).toBeGreaterThanOrEqual(50);
    expect(bodies.size).toBe(1);
    for (const p of patients) expect((await resetMail(p.email)).count).toBe(3);
    expect(Math.abs(mReal - mUnknown)).toBeLessThan(30);
  }, 120_000);
});

describe('staff-initiated reset', () => {
  it('202 sends the same email; 404 without a record, 409 without a login, 422 without an email, 401 without a token', async () => {
    const p = await registered();
    const res = await api(`/patients/${p.patientId}/portal/credential-reset`, { method: 'POST', token: staff });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ expiresAt: expect.any(String), delivery: 'Sent' });
    const { token, pin } = await resetMail(p.email);
    expect((await confirm({ token, pin, username: p.username, newPassword: second })).status).toBe(200);

    expect((await api('/patients/RST-none/portal/credential-reset', { method: 'POST', token: staff })).status).toBe(404);
    const unregistered = `RST-${randomUUID().slice(0, 8)}`;
    await api(`/patients/${unregistered}/portal`, { method: 'PUT', token: staff, body: { email: `${unregistered.toLowerCase()}@example.test` } });
    expect((await api(`/patients/${unregistered}/portal/credential-reset`, { method: 'POST', token: staff })).json).toMatchObject({ status: 409, type: '/problems/not-registered' });
    const noEmail = await registered();
    await api(`/patients/${noEmail.patientId}/portal`, { method: 'PUT', token: staff, body: { email: null } });
    expect((await api(`/patients/${noEmail.patientId}/portal/credential-reset`, { method: 'POST', token: staff })).json).toMatchObject({ status: 422, type: '/problems/no-email' });
    expect((await api(`/patients/${p.patientId}/portal/credential-reset`, { method: 'POST' })).status).toBe(401);
  });
});

describe('forced credential change', () => {
  async function forceUntilComplete() {
    type Answer = { complete: boolean; count: number; jobId: string };
    const calls: ApiResponse<Answer>[] = [];
    do calls.push(await api<Answer>('/portal/forced-credential-change', { method: 'POST', token: admin }));
    while (calls.at(-1)!.json?.complete === false && calls.length < 30);
    return { calls, last: calls.at(-1)!.json };
  }

  it('marks every registered record over a few hundred (paged), answers the count; the next sign-in is NEW_PASSWORD_REQUIRED; staff get 403', async () => {
    const p = await registered();
    // 300 registered and 20 unregistered records written straight into the table.
    const now = new Date().toISOString();
    const item = (i: number, registeredOne: boolean) => ({
      pk: `PATIENT#FC-${String(i).padStart(4, '0')}`, sk: 'RECORD', listKey: 'PATIENT', patientId: `FC-${String(i).padStart(4, '0')}`,
      accessEnabled: true, cases: [], invite: { status: 'None' }, createdAt: now, updatedAt: now, version: 1,
      ...(registeredOne ? { accountId: randomUUID(), username: `fc-${i}`, usernameKey: `fc-${i}`, registration: 'NormalRegistration' } : { registration: 'NotRegistered' }),
    });
    const items = Array.from({ length: 320 }, (_, i) => item(i, i < 300));
    const db = dynamodb();
    for (let i = 0; i < items.length; i += 25) {
      await db.send(new BatchWriteItemCommand({ RequestItems: { [stack().tableName]: items.slice(i, i + 25).map((it) => ({ PutRequest: { Item: marshall(it) } })) } }));
    }
    expect((await api('/portal/forced-credential-change', { method: 'POST', token: staff })).status).toBe(403);

    // One POST works until its time budget; a slow machine (or a table grown by other files)
    // needs more, each continuing the same run, as the API tells admins to.
    const res = await forceUntilComplete();
    expect(res.calls.every((c) => c.status === 202 && c.json.jobId === res.calls[0]!.json.jobId)).toBe(true);
    expect(res.last).toMatchObject({ complete: true, count: expect.any(Number), jobId: expect.any(String) });
    expect(res.last.count).toBeGreaterThanOrEqual(301);

    const sample = await api('/patients/FC-0299/portal', { token: staff });
    expect(sample.json.version).toBe(2);
    expect((await api('/patients/FC-0310/portal', { token: staff })).json.version).toBe(1);
    expect((await api(`/patients/FC-0299/portal/audit`, { token: admin })).json.items[0]).toMatchObject({ action: 'patient.forced-credential-change', actor: stack().admin.username });

    const challenge = await signIn(p.username, first);
    expect(challenge.json).toEqual({ challenge: 'NEW_PASSWORD_REQUIRED', session: expect.any(String) });
    expect((await api('/account', { token: p.tokens.accessToken })).status).toBe(401);
    const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: second } });
    expect(done.status).toBe(200);

    // A second run marks nothing new and counts every registered patient again.
    const again = await forceUntilComplete();
    expect(again.last.jobId).not.toBe(res.last.jobId);
    expect((await api('/patients/FC-0299/portal', { token: staff })).json.version).toBe(2);
  }, 240_000);
});
