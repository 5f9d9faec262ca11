/**
 * The email-match method and auto-invite over HTTP against the local emulators: request →
 * mailbox has the verify link (no PIN) → confirm → sign in; unmatched, disabled and registered
 * addresses (same 202, no email); expired, used and unknown links (one 410); the races of rule
 * 25; the equal answers and times of rule 13; each auto-invite reason, the happy path, and
 * idempotency.
 */
import { randomUUID } from 'node:crypto';
import { ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, cognito, mailbox, setClockOffset, stack } from './support/stack.ts';
import { staffSession } from './support/staff-session.ts';

let admin: string;
let staff: string;
const password = 'correct horse battery staple meadow';
const HOUR = 60 * 60 * 1000;
const WINDOW = 15 * 60 * 1000;

beforeAll(async () => {
  const s = stack();
  admin = (await staffSession('admin')).accessToken;
  staff = (await staffSession('staff')).accessToken;
  expect((await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: true } })).status).toBe(200);
});

afterAll(async () => {
  await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: false, autoInvite: false } });
  await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: admin, body: { autoInvite: false, canInvite: true } });
});

afterEach(async () => {
  await setClockOffset(0);
});

/** A fresh record; its id and address are unique to the test. */
async function patient(body: Record<string, unknown> = {}) {
  const patientId = `EM-${randomUUID().slice(0, 8)}`;
  const email = `${patientId.toLowerCase()}@example.test`;
  const res = await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-7'], ...body } });
  expect(res.status).toBe(200);
  return { patientId, email };
}

const ask = (email: string) => api('/registrations/email', { method: 'POST', body: { email } });
const confirm = (body: Record<string, unknown>) => api('/registrations/email/confirm', { method: 'POST', body });
const username = () => `pat-${randomUUID().slice(0, 8)}`;

async function verifyToken(email: string): Promise<string> {
  const text = (await mailbox(email)).at(-1)?.body.text ?? '';
  const token = /\/portal\/verify#token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!token) throw new Error(`no verification link in the email to ${email}`);
  return token;
}

async function patientUserCount(): Promise<number> {
  const out = await cognito().send(new ListUsersCommand({ UserPoolId: stack().patientUserPoolId }));
  return out.Users?.length ?? 0;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('the email-match method', () => {
  it('request → mailbox has the verify link and no PIN → confirm 201 → Normal Registration → POST /sessions gives tokens', async () => {
    const { patientId, email } = await patient();
    const started = performance.now();
    const res = await ask(email.toUpperCase());
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ message: expect.stringMatching(/If this email address is on file/) });
    const mails = await mailbox(email);
    expect(mails).toHaveLength(1);
    const token = await verifyToken(email);
    expect(token.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits of base64url (rule 9)
    expect(mails[0]!.body.text).toContain(`${stack().apiUrl}/portal/verify#token=${token}`);
    expect(mails[0]!.body.html).toContain(`/portal/verify#token=${token}`);
    // rule 26: the token only after '#', so no server sees it; no query in any link.
    expect(`${mails[0]!.body.text}${mails[0]!.body.html}`).not.toMatch(/[?&/]token[=/]|https?:\/\/[^\s"'<>]*\?/);
    expect(`${mails[0]!.subject}${mails[0]!.body.text}`).not.toMatch(/\bPIN\b/);

    const name = username();
    const done = await confirm({ token, username: name, password });
    expect(done.status).toBe(201);
    expect(done.json).toEqual({ accountId: expect.stringMatching(/^[0-9a-f-]{36}$/), username: name });
    const flowMs = performance.now() - started;

    const record = await api(`/patients/${patientId}/portal`, { token: staff });
    expect(record.json).toMatchObject({ accountId: done.json.accountId, username: name, registration: 'NormalRegistration', statusMessage: 'Enabled / Normal Registration / No Invite' });

    const session = await api('/sessions', { method: 'POST', body: { username: name, password } });
    expect(session.status).toBe(200);
    expect(session.json).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String) });

    const trail = await api(`/patients/${patientId}/portal/audit`, { token: admin });
    const actions = trail.json.items.map((i: { action: string }) => i.action);
    expect(actions).toEqual(expect.arrayContaining(['email-match.requested', 'registration.completed']));
    expect(JSON.stringify(trail.json)).not.toContain(token);
    expect(JSON.stringify(trail.json)).not.toContain(email);
    console.log(`email-match flow on the local stack: request → confirm in ${flowMs.toFixed(0)} ms`);
  });

  it('rule 13: an unmatched, a disabled and a registered address get the same 202 body and no email', async () => {
    const matched = await patient();
    const disabled = await patient({ accessEnabled: false });
    const registered = await patient();
    await ask(registered.email);
    expect((await confirm({ token: await verifyToken(registered.email), username: username(), password })).status).toBe(201);
    const before = (await mailbox(registered.email)).length;

    const answers = await Promise.all([matched.email, `nobody-${randomUUID().slice(0, 8)}@example.test`, disabled.email, registered.email].map(ask));
    for (const a of answers) {
      expect(a.status).toBe(202);
      expect(a.text).toBe(answers[0]!.text);
    }
    expect(await mailbox(matched.email)).toHaveLength(1);
    expect(await mailbox(disabled.email)).toHaveLength(0);
    expect(await mailbox(registered.email)).toHaveLength(before);
  });

  it('rule 13: matched and unmatched requests answer in the same time (medians over 50 each)', async () => {
    const records = await Promise.all(Array.from({ length: 50 }, () => patient()));
    const unmatched = Array.from({ length: 50 }, () => `none-${randomUUID().slice(0, 8)}@example.test`);
    const times = { matched: [] as number[], unmatched: [] as number[] };
    const bodies = new Set<string>();
    const timed = async (kind: keyof typeof times, email: string) => {
      const t0 = performance.now();
      const res = await ask(email);
      times[kind].push(performance.now() - t0);
      expect(res.status).toBe(202);
      bodies.add(res.text);
    };
    // Each batch in a fresh per-address window of its own (the budget is 100 requests per 15 minutes).
    for (let batch = 0; batch < 10; batch++) {
      await setClockOffset((40 + batch) * WINDOW);
      // Interleaved, so neither kind is always served first.
      const m = records.slice(batch * 5, batch * 5 + 5).map((r) => () => timed('matched', r.email));
      const u = unmatched.slice(batch * 5, batch * 5 + 5).map((e) => () => timed('unmatched', e));
      await Promise.all(m.flatMap((f, i) => (batch % 2 ? [u[i]!, f] : [f, u[i]!])).map((f) => f()));
    }
    const m = median(times.matched);
    const u = median(times.unmatched);
    console.log(`rule 13 email-match timing: matched median ${m.toFixed(1)} ms, unmatched median ${u.toFixed(1)} ms (n=${times.matched.length}/${times.unmatched.length})`);
    expect(bodies.size).toBe(1);
    expect(Math.abs(m - u)).toBeLessThan(100);
    expect((await mailbox(records[0]!.email))).toHaveLength(1);
  }, 120_000);

  it('rule 6: past 100 requests from one address in a window the answer is 429 with Retry-After', async () => {
    await setClockOffset(80 * WINDOW);
    const emails = Array.from({ length: 100 }, () => `flood-${randomUUID().slice(0, 8)}@example.test`);
    for (let i = 0; i < 100; i += 25) {
      const batch = await Promise.all(emails.slice(i, i + 25).map(ask));
      for (const a of batch) expect(a.status).toBe(202);
    }
    const over = await ask(`flood-${randomUUID().slice(0, 8)}@example.test`);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  }, 60_000);

  it('at most 3 emails an hour to one address; the next hour it works again', async () => {
    const { email } = await patient();
    for (let i = 0; i < 5; i++) expect((await ask(email)).status).toBe(202);
    expect(await mailbox(email)).toHaveLength(3);
    await setClockOffset(HOUR);
    await ask(email);
    expect(await mailbox(email)).toHaveLength(4);
  });

  it('rule 11 and 12: an expired link (24 h) is 410 with the same body as an unknown one', async () => {
    const { email } = await patient();
    await ask(email);
    const token = await verifyToken(email);
    await setClockOffset(24 * HOUR + 60_000);
    const expired = await confirm({ token, username: username(), password });
    const unknown = await confirm({ token: 'Q'.repeat(43), username: username(), password });
    expect(expired.status).toBe(410);
    expect(expired.headers.get('content-type')).toBe('application/problem+json');
    expect(expired.text).toBe(unknown.text);
  });

  it('rule 11: a used link and a replaced link are 410, byte-identical to an unknown one', async () => {
    const { email } = await patient();
    await ask(email);
    const first = await verifyToken(email);
    await ask(email);
    const second = await verifyToken(email);
    expect(second).not.toBe(first);
    expect((await confirm({ token: second, username: username(), password })).status).toBe(201);
    const used = await confirm({ token: second, username: username(), password });
    const replaced = await confirm({ token: first, username: username(), password });
    const unknown = await confirm({ token: 'R'.repeat(43), username: username(), password });
    expect(used.status).toBe(410);
    expect(used.text).toBe(unknown.text);
    expect(replaced.text).toBe(unknown.text);
  });

  it('rule 17: revoke after the link was sent kills it, also once access is enabled again', async () => {
    const { patientId, email } = await patient();
    await ask(email);
    const token = await verifyToken(email);
    expect((await api(`/patients/${patientId}/portal/revoke`, { method: 'POST', token: staff })).status).toBe(200);
    expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { accessEnabled: true } })).status).toBe(200);
    expect((await confirm({ token, username: username(), password })).status).toBe(410);
  });

  it('rule 3: a weak password is 400 with the reason; a taken username is 409; neither consumes the link', async () => {
    const taken = await patient();
    await ask(taken.email);
    const takenName = username();
    expect((await confirm({ token: await verifyToken(taken.email), username: takenName, password })).status).toBe(201);

    const { email } = await patient();
    await ask(email);
    const token = await verifyToken(email);
    const weak = await confirm({ token, username: username(), password: 'passwordpassword' });
    expect(weak.status).toBe(400);
    expect(weak.json.errors).toEqual([{ path: 'body.password', message: expect.stringMatching(/common/) }]);
    const clash = await confirm({ token, username: takenName.toUpperCase(), password });
    expect(clash.status).toBe(409);
    expect(clash.json.type).toBe('/problems/username-taken');
    expect((await confirm({ token, username: username(), password })).status).toBe(201);
  });

  it('rule 25: 20 concurrent confirmations: exactly one 201, the rest 409 or 410, one Cognito user', async () => {
    const { patientId, email } = await patient();
    await ask(email);
    const token = await verifyToken(email);
    const before = await patientUserCount();
    const name = username();
    const answers = await Promise.all(Array.from({ length: 20 }, () => confirm({ token, username: name, password })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const s of statuses.filter((x) => x !== 201)) expect([409, 410]).toContain(s);
    expect(await patientUserCount()).toBe(before + 1);
    const record = await api(`/patients/${patientId}/portal`, { token: staff });
    expect(record.json.accountId).toBe(answers.find((a) => a.status === 201)!.json.accountId);
  });

  it('self-registration off: the same 202 and no email', async () => {
    const { email } = await patient();
    await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: false } });
    try {
      const res = await ask(email);
      expect(res.status).toBe(202);
      expect(await mailbox(email)).toHaveLength(0);
    } finally {
      await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: true } });
    }
  });
});

describe('auto-invite: POST /events/note-signed', () => {
  const signer = () => stack().staff.username;
  const signed = (patientId: string, signedBy = signer()) => api('/events/note-signed', { method: 'POST', token: staff, body: { patientId, signedBy } });

  beforeAll(async () => {
    expect((await api('/settings', { method: 'PUT', token: admin, body: { autoInvite: true } })).status).toBe(200);
    expect((await api(`/staff/${signer()}/permissions`, { method: 'PUT', token: admin, body: { autoInvite: true, canInvite: true } })).status).toBe(200);
  });

  it('invites: 202 {invited: true}, the email with the link in the mailbox, no PIN in the answer, the PIN through access-code, the signer as actor; idempotent', async () => {
    const { patientId, email } = await patient();
    const res = await signed(patientId);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ invited: true, delivery: 'Sent' });
    expect(res.json).not.toHaveProperty('pin');
    const mails = await mailbox(email);
    expect(mails).toHaveLength(1);
    const token = /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec(mails[0]!.body.text ?? '')?.[1];
    expect(token).toBeDefined();

    const again = await signed(patientId);
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ invited: false, reason: 'invitation-pending' });
    expect(await mailbox(email)).toHaveLength(1);

    const code = await api(`/patients/${patientId}/portal/access-code`, { token: staff });
    expect(code.status).toBe(200);
    expect((await api('/registrations', { method: 'POST', body: { token, pin: code.json.pin, username: username(), password } })).status).toBe(201);

    const trail = await api(`/patients/${patientId}/portal/audit`, { token: admin });
    const created = trail.json.items.find((i: { action: string }) => i.action === 'invitation.created');
    expect(created).toMatchObject({ actor: signer(), detail: { trigger: 'note-signed', signedBy: signer() } });
    expect(JSON.stringify(trail.json)).not.toContain(code.json.pin);
  });

  it('rule 25: 20 identical events at once invite once, one email', async () => {
    const { patientId, email } = await patient();
    const answers = await Promise.all(Array.from({ length: 20 }, () => signed(patientId)));
    expect(answers.filter((a) => a.json.invited === true)).toHaveLength(1);
    for (const a of answers.filter((x) => x.json.invited !== true)) expect(a.json).toEqual({ invited: false, reason: 'invitation-pending' });
    expect(await mailbox(email)).toHaveLength(1);
  });

  it('answers each reason with invited: false and sends nothing', async () => {
    const noEmail = await patient({ email: null });
    const disabled = await patient({ accessEnabled: false });
    const registered = await patient();
    await ask(registered.email);
    expect((await confirm({ token: await verifyToken(registered.email), username: username(), password })).status).toBe(201);
    const fine = await patient();

    const reason = async (patientId: string, signedBy?: string) => {
      const res = await signed(patientId, signedBy);
      expect(res.status).toBe(202);
      expect(res.json.invited).toBe(false);
      return res.json.reason;
    };
    expect(await reason(noEmail.patientId)).toBe('no-email');
    expect(await reason(disabled.patientId)).toBe('access-disabled');
    expect(await reason(registered.patientId)).toBe('already-registered');
    expect(await reason(`EM-none-${randomUUID().slice(0, 6)}`)).toBe('no-record');
    expect(await reason(fine.patientId, 'someone-without-permission')).toBe('signer-not-enabled');
    await api('/settings', { method: 'PUT', token: admin, body: { autoInvite: false } });
    try {
      expect(await reason(fine.patientId)).toBe('practice-setting-off');
    } finally {
      await api('/settings', { method: 'PUT', token: admin, body: { autoInvite: true } });
    }
    for (const p of [disabled, fine]) expect(await mailbox(p.email)).toHaveLength(0);
    expect((await api(`/patients/${fine.patientId}/portal`, { token: staff })).json.invite.status).toBe('None');
  });

  it("rule 28: a staff user with canInvite false gets no invitation by naming \"admin\" as signer: 403, no email, no PIN, the audit never names admin as actor", async () => {
    const adminName = stack().admin.username;
    expect((await api(`/staff/${adminName}/permissions`, { method: 'PUT', token: admin, body: { autoInvite: true, canInvite: true } })).status).toBe(200);
    const { patientId, email } = await patient();
    await api(`/staff/${signer()}/permissions`, { method: 'PUT', token: admin, body: { canInvite: false } });
    try {
      const res = await signed(patientId, adminName);
      expect(res.status).toBe(403);
      expect(res.json.detail).toMatch(/permissions/);
      expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).status).not.toBe(200);
    } finally {
      await api(`/staff/${signer()}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true } });
      await api(`/staff/${adminName}/permissions`, { method: 'PUT', token: admin, body: { autoInvite: false } });
    }
    expect(await mailbox(email)).toHaveLength(0);
    expect((await api(`/patients/${patientId}/portal`, { token: staff })).json.invite.status).toBe('None');
    const trail = await api(`/patients/${patientId}/portal/audit`, { token: admin });
    expect(trail.json.items.filter((i: { actor: string }) => i.actor === adminName)).toEqual([]);
  });

  it('401 without a token; 400 for a bad body', async () => {
    expect((await api('/events/note-signed', { method: 'POST', body: { patientId: 'P-1', signedBy: 'x' } })).status).toBe(401);
    const bad = await api('/events/note-signed', { method: 'POST', token: staff, body: { patientId: 'P-1' } });
    expect(bad.status).toBe(400);
  });
});
