/**
 * Self-registration with staff approval (issue 19) over HTTP against the local emulators:
 * request → mailbox link → verify → staff list → approve onto a new record → the person chooses
 * credentials through POST /registrations/email/confirm → signs in; the practice inbox got both
 * notices (no PHI). Reject (no record words), expiry (test clock), a duplicate request, an address
 * that already has a login (same answer), 20 concurrent approvals → one, the setting off → the
 * unknown-route 404, rule 13 equal bodies, dead links (one 410), registeredSince.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { api, dynamodb, mailbox, setClockOffset, stack, type Email } from './support/stack.ts';
import { staffSession } from './support/staff-session.ts';
import { invited, register, registered } from './support/patients.ts';

let admin: string;
let staff: string;
const password = 'correct horse battery staple meadow';
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** The practice inbox of this file (other files' registrations may notify it too while the setting is on). */
const practiceInbox = `practice-${randomUUID().slice(0, 8)}@example.test`;

beforeAll(async () => {
  stack();
  admin = (await staffSession('admin')).accessToken;
  staff = (await staffSession('staff')).accessToken;
  const res = await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: true, notifyEmail: practiceInbox } });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: false } });
  // PUT /settings cannot clear notifyEmail yet (a partial change has no "unset"): take it off the
  // item directly, or every later file's registration would send a notice (and one more call).
  await dynamodb().send(
    new UpdateItemCommand({ TableName: stack().tableName, Key: { pk: { S: 'SETTINGS' }, sk: { S: 'PRACTICE' } }, UpdateExpression: 'REMOVE settings.notifyEmail' }),
  );
});

afterEach(async () => {
  await setClockOffset(0);
});

const person = (over: Record<string, unknown> = {}) => {
  const tag = randomUUID().slice(0, 8);
  return { firstName: 'Ada', lastName: `Lovelace-${tag}`, dateOfBirth: '1980-04-30', email: `self-${tag}@example.test`, ...over };
};
const ask = (body: Record<string, unknown>) => api('/self-registrations', { method: 'POST', body });
const verify = (token: string) => api('/self-registrations/verify', { method: 'POST', body: { token } });
const list = (status = 'Pending', token = staff) => api(`/self-registrations?status=${status}&limit=100`, { token });
const approve = (requestId: string, patientId: string, token = staff) =>
  api(`/self-registrations/${requestId}/approve`, { method: 'POST', token, body: { patientId } });
const reject = (requestId: string, reason: string, token = staff) => api(`/self-registrations/${requestId}/reject`, { method: 'POST', token, body: { reason } });

function tokensIn(mails: Email[], path: string): string[] {
  const pattern = new RegExp(`${path}#token=([A-Za-z0-9_-]+)`);
  return mails.flatMap((m) => pattern.exec(m.body.text ?? '')?.[1] ?? []);
}
const selfRegisterTokens = async (email: string) => tokensIn(await mailbox(email), '/portal/self-register');

async function pendingRequestOf(email: string): Promise<{ requestId: string } & Record<string, unknown>> {
  const found = (await list()).json.items.find((i: { email: string }) => i.email === email);
  if (!found) throw new Error('the request is not in the Pending list');
  return found;
}

/** Request and verify: the request is Pending; its id from the staff list. */
async function pending(over: Record<string, unknown> = {}) {
  const body = person(over);
  expect((await ask(body)).status).toBe(202);
  const [token] = await selfRegisterTokens(body.email);
  expect((await verify(token!)).status).toBe(200);
  const { requestId } = await pendingRequestOf(body.email);
  return { ...body, requestId };
}

describe('self-registration', () => {
  it('request → link → verify → staff list → approve onto a NEW record → confirm credentials → sign in; the practice got both notices, with no PHI', async () => {
    const noticesBefore = (await mailbox(practiceInbox)).length;
    const body = { ...person(), phone: '+15551230000' };
    const res = await ask(body);
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ message: expect.stringMatching(/link to confirm it/) });

    const mails = await mailbox(body.email);
    expect(mails).toHaveLength(1);
    const [token] = tokensIn(mails, '/portal/self-register');
    expect(token!.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits (rule 9)
    expect(mails[0]!.body.text).toContain(`${stack().apiUrl}/portal/self-register#token=${token}`);
    // rule 26: the token only after '#'.
    expect(`${mails[0]!.body.text}${mails[0]!.body.html}`).not.toMatch(/[?&]token=/);

    // Not listed before the address is proved.
    expect((await list()).json.items.some((i: { email: string }) => i.email === body.email)).toBe(false);
    const verified = await verify(token!);
    expect(verified.status).toBe(200);
    expect(verified.json).toEqual({ status: 'Pending' });
    // The same link again: dead.
    expect((await verify(token!)).status).toBe(410);

    const waiting = await pendingRequestOf(body.email);
    expect(waiting).toMatchObject({ firstName: 'Ada', lastName: body.lastName, dateOfBirth: '1980-04-30', email: body.email, phone: '+15551230000', status: 'Pending' });
    expect(Date.parse(waiting.deleteAt as string) - Date.now()).toBeGreaterThan(29 * DAY);

    const patientId = `SR-${randomUUID().slice(0, 8)}`;
    expect((await api(`/patients/${patientId}/portal`, { token: staff })).status).toBe(404);
    const approved = await approve(waiting.requestId, patientId);
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ patientId, email: body.email, registration: 'NotRegistered', accessEnabled: true });
    expect((await approve(waiting.requestId, patientId)).status).toBe(409);
    expect((await list('Approved')).json.items).toEqual(expect.arrayContaining([expect.objectContaining({ requestId: waiting.requestId, status: 'Approved', patientId })]));

    const verifyTokens = tokensIn(await mailbox(body.email), '/portal/verify');
    expect(verifyTokens).toHaveLength(1);
    const username = `self-${randomUUID().slice(0, 8)}`;
    // emailMatch is off (the default): the link works all the same.
    expect((await api('/settings', { token: staff })).json.emailMatch).toBe(false);
    const done = await api('/registrations/email/confirm', { method: 'POST', body: { token: verifyTokens[0], username, password } });
    expect(done.status).toBe(201);
    const signedIn = await api('/sessions', { method: 'POST', body: { username, password } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.json).toMatchObject({ accessToken: expect.any(String) });

    const record = (await api(`/patients/${patientId}/portal`, { token: staff })).json;
    expect(record).toMatchObject({ registration: 'NormalRegistration', username, registeredAt: expect.any(String) });

    const notices = (await mailbox(practiceInbox)).slice(noticesBefore);
    const subjects = notices.map((n) => n.subject);
    expect(subjects).toEqual(expect.arrayContaining([expect.stringMatching(/a registration awaits approval/), expect.stringMatching(/a patient finished registering/)]));
    for (const n of notices) {
      const all = `${n.subject}${n.body.text}${n.body.html}`;
      for (const phi of [body.email, body.lastName, 'Ada', '1980', '5551230000', patientId, username]) expect(all).not.toContain(phi);
    }

    const trail = (await api(`/patients/${patientId}/portal/audit`, { token: admin })).json.items.map((i: { action: string; actor: string }) => [i.action, i.actor]);
    expect(trail).toEqual(expect.arrayContaining([['self-registration.approved', stack().staff.username], ['registration.completed', expect.any(String)]]));
  });

  it('the practice is told when a patient finishes registering by ANY method: the invitation, and the new-password step after a staff temporary password (and never the forced change of a registered patient)', async () => {
    const finished = async () => (await mailbox(practiceInbox)).filter((m) => /finished registering/.test(m.subject)).length;
    const before = await finished();
    const viaInvitation = await invited(staff, 'SRN');
    expect((await register({ token: viaInvitation.token, pin: viaInvitation.pin, username: `srn-${randomUUID().slice(0, 8)}`, password })).status).toBe(201);
    expect(await finished()).toBeGreaterThanOrEqual(before + 1);
    const middle = await finished();
    const viaStaff = await registered(staff, 'SRT');
    expect(await finished()).toBeGreaterThanOrEqual(middle + 1);
    const record = (await api(`/patients/${viaStaff.patientId}/portal`, { token: staff })).json;
    expect(record.registeredAt).toEqual(expect.any(String));
    for (const n of (await mailbox(practiceInbox)).slice(before)) {
      expect(`${n.subject}${n.body.text}${n.body.html}`).not.toMatch(new RegExp(`${viaInvitation.patientId}|${viaStaff.patientId}|${viaStaff.username}|example\\.test`, 'i'));
    }
  });

  it('GET /patients?registeredSince= lists records whose login was made since then', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const { requestId, email } = await pending();
    const patientId = `SR-${randomUUID().slice(0, 8)}`;
    expect((await approve(requestId, patientId)).status).toBe(200);
    const [token] = tokensIn(await mailbox(email), '/portal/verify');
    expect((await api('/registrations/email/confirm', { method: 'POST', body: { token, username: `self-${randomUUID().slice(0, 8)}`, password } })).status).toBe(201);
    const found = await api(`/patients?registeredSince=${encodeURIComponent(since)}&limit=100`, { token: staff });
    expect(found.status).toBe(200);
    const ids = found.json.items.map((r: { patientId: string }) => r.patientId);
    expect(ids).toContain(patientId);
    for (const r of found.json.items) expect(Date.parse(r.registeredAt)).toBeGreaterThanOrEqual(Date.parse(since));
    const future = await api(`/patients?registeredSince=${encodeURIComponent(new Date(Date.now() + DAY).toISOString())}`, { token: staff });
    expect(future.json.items.map((r: { patientId: string }) => r.patientId)).not.toContain(patientId);
  });

  it('approve onto an EXISTING record without a login gives it the address; onto a record with a login: 409, the request still waits', async () => {
    const one = await pending();
    const existing = `SR-${randomUUID().slice(0, 8)}`;
    expect((await api(`/patients/${existing}/portal`, { method: 'PUT', token: staff, body: { cases: ['C-1'] } })).status).toBe(200);
    const ok = await approve(one.requestId, existing);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ patientId: existing, email: one.email, cases: ['C-1'] });

    const two = await pending();
    const token = tokensIn(await mailbox(one.email), '/portal/verify')[0];
    expect((await api('/registrations/email/confirm', { method: 'POST', body: { token, username: `self-${randomUUID().slice(0, 8)}`, password } })).status).toBe(201);
    const refused = await approve(two.requestId, existing);
    expect(refused.status).toBe(409);
    expect(refused.json.type).toBe('/problems/already-registered');
    expect((await pendingRequestOf(two.email)).requestId).toBe(two.requestId);
  });

  it('reject: audited, the person is told in words that reveal no record (not the reason), and the request leaves the Pending list', async () => {
    const { requestId, email, lastName } = await pending();
    const reason = 'Not a patient of ours: record P-77 belongs to someone else';
    const res = await reject(requestId, reason);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ requestId, status: 'Rejected' });
    expect((await reject(requestId, 'again')).status).toBe(409);
    expect((await list()).json.items.some((i: { requestId: string }) => i.requestId === requestId)).toBe(false);
    expect((await list('Rejected')).json.items).toEqual(expect.arrayContaining([expect.objectContaining({ requestId, reason })]));

    const told = (await mailbox(email)).at(-1)!;
    const words = `${told.subject}\n${told.body.text}\n${told.body.html}`;
    expect(words).toMatch(/could not set one up/);
    for (const leak of ['P-77', 'record', 'Not a patient', lastName, 'Ada', 'reason', 'on file', 'existing']) expect(words).not.toContain(leak);
  });

  it('staff without invite permission cannot approve or reject (403); an unknown request is 404', async () => {
    const { requestId } = await pending();
    const who = stack().staff.username;
    expect((await api(`/staff/${who}/permissions`, { method: 'PUT', token: admin, body: { canInvite: false, autoInvite: false } })).status).toBe(200);
    try {
      expect((await approve(requestId, `SR-${randomUUID().slice(0, 8)}`)).status).toBe(403);
      expect((await reject(requestId, 'no')).status).toBe(403);
    } finally {
      await api(`/staff/${who}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true, autoInvite: false } });
    }
    expect((await approve(randomUUID(), 'SR-X')).status).toBe(404);
    expect((await api('/self-registrations')).status).toBe(401);
  });

  it('expiry: an unproved request and its link die after 24 hours (410, never listed); a Pending one leaves the list after 30 days', async () => {
    const body = person();
    await ask(body);
    const [token] = await selfRegisterTokens(body.email);
    await setClockOffset(24 * HOUR + 60_000);
    const late = await verify(token!);
    expect(late.status).toBe(410);
    expect(late.json.type).toBe('/problems/link-gone');

    await setClockOffset(0);
    const waiting = await pending();
    await setClockOffset(30 * DAY + 60_000);
    expect((await list()).json.items.some((i: { requestId: string }) => i.requestId === waiting.requestId)).toBe(false);
    expect((await approve(waiting.requestId, `SR-${randomUUID().slice(0, 8)}`)).status).toBe(404);
    // The address is free again: a new request sends a new link.
    expect((await ask(person({ email: waiting.email }))).status).toBe(202);
    expect(await selfRegisterTokens(waiting.email)).toHaveLength(2);
  });

  it('duplicate: a second request while unproved REPLACES the first (the old link dies); while Pending, nothing new is sent — the same 202 each time', async () => {
    const body = person();
    const first = await ask(body);
    const second = await ask({ ...body, firstName: 'Augusta' });
    expect(second.text).toBe(first.text);
    const [old, fresh] = await selfRegisterTokens(body.email);
    expect(fresh).toBeDefined();
    expect((await verify(old!)).status).toBe(410);
    expect((await verify(fresh!)).status).toBe(200);
    const waiting = await pendingRequestOf(body.email);
    expect(waiting.firstName).toBe('Augusta');
    expect((await list()).json.items.filter((i: { email: string }) => i.email === body.email)).toHaveLength(1);

    const third = await ask(body);
    expect(third.status).toBe(202);
    expect(third.text).toBe(first.text);
    expect(await selfRegisterTokens(body.email)).toHaveLength(2);
  });

  it('rule 13: an unknown address, an address on file, one that already has a login, and a repeat get the same status and body', async () => {
    const onFile = `SR-${randomUUID().slice(0, 8)}`;
    const onFileEmail = `${onFile.toLowerCase()}@example.test`;
    await api(`/patients/${onFile}/portal`, { method: 'PUT', token: staff, body: { email: onFileEmail } });
    const withLogin = await pending();
    const loginId = `SR-${randomUUID().slice(0, 8)}`;
    await approve(withLogin.requestId, loginId);
    const vt = tokensIn(await mailbox(withLogin.email), '/portal/verify')[0];
    expect((await api('/registrations/email/confirm', { method: 'POST', body: { token: vt, username: `self-${randomUUID().slice(0, 8)}`, password } })).status).toBe(201);

    const unknown = person();
    const answers = [];
    for (const email of [unknown.email, onFileEmail, withLogin.email, unknown.email]) {
      const started = performance.now();
      const res = await ask(person({ email }));
      answers.push({ status: res.status, text: res.text, ms: performance.now() - started });
    }
    for (const a of answers) {
      expect(a.status).toBe(202);
      expect(a.text).toBe(answers[0]!.text);
      expect(a.ms).toBeGreaterThanOrEqual(590); // the floor, never less
    }
  });

  it('20 concurrent approvals of one request → exactly one succeeds, the rest 409; one record, one link emailed', async () => {
    const { requestId, email } = await pending();
    const patientIds = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `SR-RACE-${requestId.slice(0, 8)}` : `SR-${randomUUID().slice(0, 8)}`));
    const answers = await Promise.all(patientIds.map((p) => approve(requestId, p)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const winner = answers.find((a) => a.status === 200)!.json.patientId;
    const created = await Promise.all([...new Set(patientIds)].map((p) => api(`/patients/${p}/portal`, { token: staff })));
    expect(created.filter((r) => r.status === 200).map((r) => r.json.patientId)).toEqual([winner]);
    expect(tokensIn(await mailbox(email), '/portal/verify')).toHaveLength(1);
  });

  it('the setting off: both public routes answer what an unknown route answers; the staff list still works', async () => {
    expect((await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: false } })).status).toBe(200);
    try {
      const body = person();
      const off = await ask(body);
      const unknown = await api('/no-such-route', { method: 'POST', body: {} });
      expect(off.status).toBe(404);
      expect(off.json).toEqual(unknown.json);
      expect(await mailbox(body.email)).toHaveLength(0);
      const offVerify = await verify('x'.repeat(43));
      expect(offVerify.status).toBe(404);
      expect(offVerify.json).toEqual(unknown.json);
      expect((await list()).status).toBe(200);
    } finally {
      expect((await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: true } })).status).toBe(200);
    }
  });

  it('bad input: 400 naming the field; unknown fields refused', async () => {
    const bad = await ask({ ...person(), dateOfBirth: '30/04/1980' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { path: string }) => e.path)).toEqual(['body.dateOfBirth']);
    expect((await ask({ ...person(), admin: true })).status).toBe(400);
    expect((await verify('')).status).toBe(400);
    expect((await api('/self-registrations?status=Unverified', { token: staff })).status).toBe(400);
  });
});
