/**
 * Invitations and registration over HTTP against the local emulators: invite → email in the
 * mailbox (link, no PIN) → check the link → register → sign in; every wrong path of the
 * contract; the races of security rule 25; expiry through the test clock.
 */
import { randomUUID } from 'node:crypto';
import { ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, cognito, mailbox, setClockOffset, signInDirect, stack } from './support/stack.ts';
import { staffSession } from './support/staff-session.ts';

let admin: string;
let staff: string;
const password = 'correct horse battery staple meadow';
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  const s = stack();
  admin = (await staffSession('admin')).accessToken;
  staff = (await staffSession('staff')).accessToken;
  expect(admin).toBeTruthy();
  expect(staff).toBeTruthy();
});

afterEach(async () => {
  await setClockOffset(0);
});

/** A fresh record with an email; its id and address are unique to the test. */
async function patient(body: Record<string, unknown> = {}) {
  const patientId = `INV-${randomUUID().slice(0, 8)}`;
  const email = `${patientId.toLowerCase()}@example.test`;
  const res = await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-42'], ...body } });
  expect(res.status).toBe(200);
  return { patientId, email };
}

const invite = (patientId: string, token = staff) => api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token });

/** The link token in the newest email to `email`. */
async function tokenIn(email: string): Promise<string> {
  const mails = await mailbox(email);
  const text = mails.at(-1)?.body.text ?? '';
  const token = /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!token) throw new Error(`no invitation link in the email to ${email}`);
  return token;
}

async function invited() {
  const p = await patient();
  const res = await invite(p.patientId);
  expect(res.status).toBe(201);
  return { ...p, pin: res.json.pin as string, expiresAt: res.json.expiresAt as string, token: await tokenIn(p.email) };
}

const register = (body: Record<string, unknown>) => api('/registrations', { method: 'POST', body });
const checkLink = (token: string) => api('/invitations/lookup', { method: 'POST', body: { token } });
const anotherPin = (pin: string) => (pin === '222222' ? '333333' : '222222');
const username = () => `pat-${randomUUID().slice(0, 8)}`;

async function patientUserCount(): Promise<number> {
  const out = await cognito().send(new ListUsersCommand({ UserPoolId: stack().patientUserPoolId }));
  return out.Users?.length ?? 0;
}

describe('the invitation flow', () => {
  it('invite → email with the link and without the PIN → check → wrong PIN 401 → right PIN 201 → link dead → record registered → POST /sessions → GET /account', async () => {
    const { patientId, email } = await patient();
    const started = performance.now();
    const res = await invite(patientId);
    expect(res.status).toBe(201);
    const { pin, expiresAt, record } = res.json;
    expect(pin).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    expect(res.json.delivery).toBe('Sent');
    expect(record).toMatchObject({ patientId, invite: { status: 'Pending', sentBy: stack().staff.username, delivery: 'Sent', expiresAt }, statusMessage: 'Enabled / Not Registered / Invite' });
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(14 * DAY - 60_000);

    const [mail] = await mailbox(email);
    expect(mail).toBeDefined();
    expect(mail!.subject).toMatch(/invitation/i);
    const token = await tokenIn(email);
    expect(token.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits of base64url
    expect(mail!.body.text).toContain(`${stack().apiUrl}/portal/register#token=${token}`);
    expect(mail!.body.html).toContain(`/portal/register#token=${token}`);
    expect(`${mail!.subject}${mail!.body.text}${mail!.body.html}`).not.toContain(pin);

    const checked = await checkLink(token);
    expect(checked.status).toBe(200);
    expect(checked.json).toEqual({ practiceName: expect.any(String), expiresAt, needs: ['pin'], kind: 'patient' });

    const name = username();
    const wrong = await register({ token, pin: anotherPin(pin), username: name, password });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toBe('application/problem+json');

    const done = await register({ token, pin: pin.toLowerCase(), username: name, password });
    expect(done.status).toBe(201);
    expect(done.json).toEqual({ accountId: expect.stringMatching(/^[0-9a-f-]{36}$/), username: name });
    const flowMs = performance.now() - started;

    const dead = await checkLink(token);
    const unknown = await checkLink('A'.repeat(43));
    expect(dead.status).toBe(410);
    expect(dead.text).toBe(unknown.text);
    expect((await register({ token, pin, username: username(), password })).status).toBe(410);

    const after = await api(`/patients/${patientId}/portal`, { token: staff });
    expect(after.json).toMatchObject({
      accountId: done.json.accountId,
      username: name,
      registration: 'NormalRegistration',
      invite: { status: 'Accepted' },
      status: { registration: 'Normal Registration', invite: 'Invite' },
      statusMessage: 'Enabled / Normal Registration / Invite',
    });

    const tokens = await signInDirect('patient', done.json.accountId, password);
    expect(tokens.accessToken).toBeTruthy();

    // Through our API, with the username the patient chose: tokens, then the account's cases.
    const session = await api('/sessions', { method: 'POST', body: { username: name, password } });
    expect(session.status).toBe(200);
    const account = await api('/account', { token: session.json.accessToken });
    expect(account.json).toEqual({
      accountId: done.json.accountId,
      username: name,
      email,
      cases: ['C-42'],
      records: [{ patientId, role: 'self', scope: 'full', cases: ['C-42'] }],
    });

    const trail = await api(`/patients/${patientId}/portal/audit`, { token: admin });
    const actions = trail.json.items.map((i: { action: string }) => i.action);
    expect(actions).toEqual(expect.arrayContaining(['invitation.created', 'invitation.emailed', 'registration.wrong-pin', 'registration.completed']));
    expect(JSON.stringify(trail.json)).not.toContain(pin);
    expect(JSON.stringify(trail.json)).not.toContain(token);
    console.log(`invitation flow on the local stack: invite → register in ${flowMs.toFixed(0)} ms`);
  });

  it('rule 7: the 5th wrong PIN locks the invitation; then the right PIN gets the dead-link 410', async () => {
    const { patientId, pin, token } = await invited();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await register({ token, pin: anotherPin(pin), username: username(), password })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const record = await api(`/patients/${patientId}/portal`, { token: staff });
    expect(record.json.invite.status).toBe('Locked');
    const locked = await register({ token, pin, username: username(), password });
    expect(locked.status).toBe(410);
    expect(locked.text).toBe((await register({ token: 'B'.repeat(43), pin, username: username(), password })).text);
    expect((await checkLink(token)).status).toBe(410);
    // Staff resend: a new link with the same PIN works again.
    const resent = await api(`/patients/${patientId}/portal/invitation/resend`, { method: 'POST', token: staff });
    expect(resent.status).toBe(200);
    expect(resent.json.record.invite.status).toBe('Pending');
    const fresh = await tokenIn(`${patientId.toLowerCase()}@example.test`);
    expect((await register({ token: fresh, pin, username: username(), password })).status).toBe(201);
  });

  it('rule 12 and 11: an expired link is 410 with the same body as an unknown one; the record reads Expired', async () => {
    const { patientId, token, pin } = await invited();
    await setClockOffset(14 * DAY + 60_000);
    const expired = await checkLink(token);
    const unknown = await checkLink('C'.repeat(43));
    expect(expired.status).toBe(410);
    expect(expired.text).toBe(unknown.text);
    expect((await register({ token, pin, username: username(), password })).status).toBe(410);
    expect((await api(`/patients/${patientId}/portal`, { token: staff })).json.invite.status).toBe('Expired');
    expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).status).toBe(404);
  });

  it('resend: the old link dies, the new one works with the same PIN, and the expiry is renewed', async () => {
    const { patientId, email, token, pin, expiresAt } = await invited();
    await setClockOffset(DAY);
    const res = await api(`/patients/${patientId}/portal/invitation/resend`, { method: 'POST', token: staff });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ delivery: 'Sent', record: { invite: { status: 'Pending' } } });
    expect(Date.parse(res.json.expiresAt)).toBeGreaterThan(Date.parse(expiresAt) + DAY - 60_000);
    const fresh = await tokenIn(email);
    expect(fresh).not.toBe(token);
    expect((await checkLink(token)).status).toBe(410);
    expect((await checkLink(fresh)).status).toBe(200);
    expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).json.pin).toBe(pin);
    expect((await register({ token: fresh, pin, username: username(), password })).status).toBe(201);
  });

  it('rule 11: cancel: the link and the PIN stop working; the record reads Cancelled / No Invite', async () => {
    const { patientId, token, pin } = await invited();
    const res = await api(`/patients/${patientId}/portal/invitation`, { method: 'DELETE', token: staff });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ invite: { status: 'Cancelled' }, statusMessage: 'Enabled / Not Registered / No Invite' });
    const cancelled = await checkLink(token);
    expect(cancelled.status).toBe(410);
    expect(cancelled.text).toBe((await checkLink('D'.repeat(43))).text);
    expect((await register({ token, pin, username: username(), password })).status).toBe(410);
    expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).status).toBe(404);
    expect((await api(`/patients/${patientId}/portal/invitation`, { method: 'DELETE', token: staff })).status).toBe(404);
  });

  it('rule 18: the access code shows the pending PIN to staff and the view is audited without the PIN', async () => {
    const { patientId, pin, expiresAt } = await invited();
    const res = await api(`/patients/${patientId}/portal/access-code`, { token: staff });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ pin, expiresAt });
    const trail = await api(`/patients/${patientId}/portal/audit`, { token: admin });
    const view = trail.json.items.find((i: { action: string }) => i.action === 'invitation.pin-viewed');
    expect(view).toMatchObject({ actor: stack().staff.username });
    expect(JSON.stringify(trail.json)).not.toContain(pin);
    expect((await api(`/patients/${patientId}/portal/access-code`)).status).toBe(401);
  });
});

describe('revoke', () => {
  it('rule 17: revoke kills the pending link and PIN; enabling access again does not revive them; a new invitation works', async () => {
    const { patientId, token, pin, email } = await invited();
    const revoked = await api(`/patients/${patientId}/portal/revoke`, { method: 'POST', token: staff });
    expect(revoked.status).toBe(200);
    expect((await checkLink(token)).status).toBe(410);
    expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { accessEnabled: true } })).status).toBe(200);
    const still = await checkLink(token);
    expect(still.status).toBe(410);
    expect(still.text).toBe((await checkLink('E'.repeat(43))).text);
    expect((await register({ token, pin, username: username(), password })).status).toBe(410);
    expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).status).toBe(404);
    const again = await invite(patientId);
    expect(again.status).toBe(201);
    expect((await register({ token: await tokenIn(email), pin: again.json.pin, username: username(), password })).status).toBe(201);
  });
});

describe('wrong paths of the contract', () => {
  it('inviting again while an invitation is pending is 409 (resend or cancel it); after a cancel a new invitation works', async () => {
    const { patientId, pin } = await invited();
    const again = await invite(patientId);
    expect(again.status).toBe(409);
    expect(again.json.type).toBe('/problems/invitation-pending');
    expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).json.pin).toBe(pin);
    expect((await api(`/patients/${patientId}/portal/invitation`, { method: 'DELETE', token: staff })).status).toBe(200);
    expect((await invite(patientId)).status).toBe(201);
  });

  it('no email → 422; no record → 404; already registered → 409', async () => {
    const noEmail = await patient({ email: null });
    expect((await invite(noEmail.patientId)).json).toMatchObject({ status: 422 });
    expect((await invite(`INV-none-${randomUUID().slice(0, 6)}`)).status).toBe(404);
    const { patientId, token, pin } = await invited();
    expect((await register({ token, pin, username: username(), password })).status).toBe(201);
    const again = await invite(patientId);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
  });

  it('staff whose invite permission was taken away get 403; given back, they can invite', async () => {
    const { patientId } = await patient();
    const who = stack().staff.username;
    expect((await api(`/staff/${who}/permissions`, { method: 'PUT', token: admin, body: { canInvite: false } })).status).toBe(200);
    try {
      const refused = await invite(patientId);
      expect(refused.status).toBe(403);
      expect((await api(`/patients/${patientId}/portal`, { token: staff })).json.invite.status).toBe('None');
    } finally {
      await api(`/staff/${who}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true } });
    }
    expect((await invite(patientId)).status).toBe(201);
  });

  it('a username already taken is 409 and the invitation still works', async () => {
    const first = await invited();
    const taken = username();
    expect((await register({ token: first.token, pin: first.pin, username: taken, password })).status).toBe(201);
    const second = await invited();
    const clash = await register({ token: second.token, pin: second.pin, username: taken.toUpperCase(), password });
    expect(clash.status).toBe(409);
    expect(clash.json.type).toBe('/problems/username-taken');
    expect((await checkLink(second.token)).status).toBe(200);
    expect((await register({ token: second.token, pin: second.pin, username: username(), password })).status).toBe(201);
  });

  it('rule 3: a weak password is 400 with the reason in words; bad fields are named', async () => {
    const { token, pin } = await invited();
    const weak = await register({ token, pin, username: username(), password: 'passwordpassword' });
    expect(weak.status).toBe(400);
    expect(weak.json.errors).toEqual([{ path: 'body.password', message: expect.stringMatching(/common/) }]);
    const bad = await register({ token, pin, username: 'no spaces allowed', password, admin: true });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.admin', 'body.username']);
    expect((await checkLink(token)).status).toBe(200);
  });
});

describe('races (rule 25)', () => {
  it('20 concurrent registrations with the right token and PIN: exactly one 201, the rest 410 or 409, one Cognito user', async () => {
    const { patientId, token, pin } = await invited();
    const before = await patientUserCount();
    const name = username();
    const answers = await Promise.all(Array.from({ length: 20 }, () => register({ token, pin, username: name, password })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const s of statuses.filter((x) => x !== 201)) expect([409, 410]).toContain(s);
    expect(await patientUserCount()).toBe(before + 1);
    const record = await api(`/patients/${patientId}/portal`, { token: staff });
    expect(record.json.accountId).toBe(answers.find((a) => a.status === 201)!.json.accountId);
  });

  it('two staff invite the same patient at once: one pending invitation, one PIN valid', async () => {
    const { patientId, email } = await patient();
    const [a, b] = await Promise.all([invite(patientId, staff), invite(patientId, admin)]);
    // Whichever came second (at the same moment, or just after) was told an invitation is pending.
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([201, 409]);
    const winner = a.status === 201 ? a : b;
    expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).json.pin).toBe(winner.json.pin);
    const mails = await mailbox(email);
    expect(mails).toHaveLength(1);
    const token = await tokenIn(email);
    expect((await register({ token, pin: winner.json.pin, username: username(), password })).status).toBe(201);
  });

  it('20 concurrent invitations of one patient: exactly one 201, the rest 409, one email', async () => {
    const { patientId, email } = await patient();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => invite(patientId, i % 2 ? staff : admin)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(await mailbox(email)).toHaveLength(1);
    const winner = answers.find((a) => a.status === 201)!;
    expect((await api(`/patients/${patientId}/portal/access-code`, { token: staff })).json.pin).toBe(winner.json.pin);
  });
});
