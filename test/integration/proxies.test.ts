/**
 * Proxy (caregiver) access over HTTP against the local emulators (issue 18, security rule 32):
 * staff invite a proxy → the proxy registers a login of their own or adds the record to the
 * login they have → GET /account lists the record → GET /account/records/{id} opens it → staff
 * or the patient end it → the proxy's NEXT request for that record is refused while their own
 * record still works. Every hostile path beside the happy one.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox, setClockOffset } from './support/stack.ts';
import { anotherPin, enrolled, firstPassword, newUsername, registered, signIn, staffTokens, uniqueId, type StaffTokens } from './support/patients.ts';

let staff: StaffTokens;
const DAY = 24 * 60 * 60 * 1000;
const proxyPassword = 'walnut ferry glacier pigeon';

beforeAll(async () => {
  staff = await staffTokens();
});

afterEach(async () => {
  await setClockOffset(0);
});

/** The proxy link token in the newest proxy invitation to `email`. */
async function proxyToken(email: string): Promise<string> {
  const mails = await mailbox(email);
  const token = /\/portal\/register#token=(px\.[A-Za-z0-9_-]+)/.exec(mails.at(-1)?.body.text ?? '')?.[1];
  if (!token) throw new Error(`no proxy invitation link in the email to ${email}`);
  return token;
}

const inviteBody = (email: string, extra: Record<string, unknown> = {}) => ({ name: 'Pat Parent', email, relationship: 'parent', scope: 'full', ...extra });

/** Staff invite a proxy for `patientId`: the PIN answered, the token from the proxy's email. */
async function staffInvite(patientId: string, extra: Record<string, unknown> = {}) {
  const email = `${uniqueId('proxy').toLowerCase()}@example.test`;
  const res = await api(`/patients/${patientId}/portal/proxies`, { method: 'POST', token: staff.staff, body: inviteBody(email, extra) });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return { email, proxyId: res.json.proxyId as string, pin: res.json.pin as string, token: await proxyToken(email) };
}

const register = (body: Record<string, unknown>) => api('/registrations', { method: 'POST', body });
const account = (token: string) => api('/account', { token });
const openRecord = (token: string, patientId: string) => api(`/account/records/${patientId}`, { token });

/** A child's record, and a parent who registered a login of their own with the proxy link (no record of their own). */
async function proxyWithNewLogin(extra: Record<string, unknown> = {}) {
  const child = await enrolled(staff.staff, 'CHILD');
  const inv = await staffInvite(child.patientId, extra);
  const username = newUsername();
  const reg = await register({ token: inv.token, pin: inv.pin, username, password: proxyPassword });
  expect(reg.status, JSON.stringify(reg.json)).toBe(201);
  const session = await signIn(username, proxyPassword);
  expect(session.status, JSON.stringify(session.json)).toBe(200);
  return { child, inv, username, accountId: reg.json.accountId as string, token: session.json.accessToken as string };
}

describe('staff invite a proxy; the proxy registers a login of their own', () => {
  it('invite → email link (px. token, no PIN) → lookup kind "proxy" → register → sign in → GET /account lists the child → open it', async () => {
    const child = await enrolled(staff.staff, 'CHILD');
    const inv = await staffInvite(child.patientId);
    expect(inv.pin).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    const [mail] = await mailbox(inv.email);
    expect(mail!.body.text).not.toContain(inv.pin);
    const look = await api('/invitations/lookup', { method: 'POST', body: { token: inv.token } });
    expect(look.status).toBe(200);
    expect(look.json).toMatchObject({ kind: 'proxy', needs: ['pin'] });

    const listed = await api(`/patients/${child.patientId}/portal/proxies`, { token: staff.staff });
    expect(listed.json.items).toEqual([expect.objectContaining({ proxyId: inv.proxyId, status: 'Invited', relationship: 'parent', scope: 'full', name: 'Pat Parent' })]);
    expect(JSON.stringify(listed.json)).not.toContain(inv.email);

    const username = newUsername();
    const reg = await register({ token: inv.token, pin: inv.pin, username, password: proxyPassword });
    expect(reg.status, JSON.stringify(reg.json)).toBe(201);
    expect((await register({ token: inv.token, pin: inv.pin, username: newUsername(), password: proxyPassword })).status).toBe(410);

    const session = await signIn(username, proxyPassword);
    expect(session.status).toBe(200);
    const me = await account(session.json.accessToken);
    expect(me.status, JSON.stringify(me.json)).toBe(200);
    expect(me.json).toMatchObject({ accountId: reg.json.accountId, username, cases: [], records: [{ patientId: child.patientId, role: 'proxy', relationship: 'parent', scope: 'full', cases: ['C-1'] }] });
    const opened = await openRecord(session.json.accessToken, child.patientId);
    expect(opened.status).toBe(200);
    expect(opened.json).toMatchObject({ patientId: child.patientId, role: 'proxy', scope: 'full', cases: ['C-1'] });

    const after = await api(`/patients/${child.patientId}/portal/proxies`, { token: staff.staff });
    expect(after.json.items).toEqual([expect.objectContaining({ status: 'Active', accountId: reg.json.accountId })]);
    const trail = await api(`/patients/${child.patientId}/portal/audit`, { token: staff.admin });
    expect(trail.json.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['proxy.invited', 'proxy.accepted', 'proxy.record-opened']));
    const opening = trail.json.items.find((e: { action: string }) => e.action === 'proxy.record-opened');
    expect(opening.actor).toBe(`patient:${reg.json.accountId}`);
    expect(opening.detail).toMatchObject({ proxyId: inv.proxyId, accountId: reg.json.accountId });
  });

  it('a "limited" proxy opens the record without its case list', async () => {
    const p = await proxyWithNewLogin({ scope: 'limited' });
    const opened = await openRecord(p.token, p.child.patientId);
    expect(opened.json).toMatchObject({ role: 'proxy', scope: 'limited', cases: [] });
  });

  it('wrong PIN with the right token: 401, and the 5th locks the link', async () => {
    const child = await enrolled(staff.staff, 'CHILD');
    const inv = await staffInvite(child.patientId);
    for (let i = 1; i <= 5; i++) {
      const res = await register({ token: inv.token, pin: anotherPin(inv.pin), username: newUsername(), password: proxyPassword });
      expect(res.status).toBe(401);
    }
    expect((await register({ token: inv.token, pin: inv.pin, username: newUsername(), password: proxyPassword })).status).toBe(410);
  });
});

describe('rule 32: ending access refuses the proxy\'s next request for that record at once', () => {
  it('rule 32: staff end the proxy → the next GET /account/records/{child} is 403 and GET /account no longer lists it, while the proxy\'s own record still works', async () => {
    const parent = await registered(staff.staff, 'PARENT');
    const child = await enrolled(staff.staff, 'CHILD');
    const inv = await staffInvite(child.patientId);
    const added = await register({ token: inv.token, pin: inv.pin, existingLogin: { username: parent.username, password: firstPassword } });
    expect(added.status, JSON.stringify(added.json)).toBe(201);
    const session = await signIn(parent.username, firstPassword);
    const token = session.json.accessToken as string;
    expect((await openRecord(token, child.patientId)).status).toBe(200);
    const me = await account(token);
    expect(me.json.records.map((r: { patientId: string; role: string }) => [r.patientId, r.role])).toEqual([
      [parent.patientId, 'self'],
      [child.patientId, 'proxy'],
    ]);

    const end = await api(`/patients/${child.patientId}/portal/proxies/${inv.proxyId}`, { method: 'DELETE', token: staff.staff });
    expect(end.status).toBe(200);
    expect(end.json.status).toBe('Ended');
    expect((await openRecord(token, child.patientId)).status).toBe(403);
    expect((await account(token)).json.records.map((r: { patientId: string }) => r.patientId)).toEqual([parent.patientId]);
    expect((await openRecord(token, parent.patientId)).status).toBe(200);
  });

  it('rule 32: the patient ends the proxy from their own account → the proxy\'s next request is 403', async () => {
    const child = await registered(staff.staff, 'CHILD');
    const email = `${uniqueId('proxy').toLowerCase()}@example.test`;
    const inv = await api('/account/proxies', { method: 'POST', token: child.tokens.accessToken, body: inviteBody(email) });
    expect(inv.status, JSON.stringify(inv.json)).toBe(201);
    const username = newUsername();
    expect((await register({ token: await proxyToken(email), pin: inv.json.pin, username, password: proxyPassword })).status).toBe(201);
    const proxy = (await signIn(username, proxyPassword)).json.accessToken as string;
    expect((await openRecord(proxy, child.patientId)).status).toBe(200);
    const mine = await api('/account/proxies', { token: child.tokens.accessToken });
    expect(mine.json.items).toEqual([expect.objectContaining({ proxyId: inv.json.proxyId, status: 'Active' })]);

    expect((await api(`/account/proxies/${inv.json.proxyId}`, { method: 'DELETE', token: child.tokens.accessToken })).status).toBe(200);
    expect((await openRecord(proxy, child.patientId)).status).toBe(403);
    // The proxy's login itself still works: it simply reaches nothing now.
    expect((await account(proxy)).json.records).toEqual([]);
  });

  it('rule 32: `until` passing refuses the next request without anyone acting', async () => {
    const p = await proxyWithNewLogin({ until: new Date(Date.now() + 2 * DAY).toISOString() });
    expect((await openRecord(p.token, p.child.patientId)).status).toBe(200);
    await setClockOffset(2 * DAY + 60_000);
    expect((await openRecord(p.token, p.child.patientId)).status).toBe(403);
    const listed = await api(`/patients/${p.child.patientId}/portal/proxies`, { token: staff.staff });
    expect(listed.json.items[0].status).toBe('Ended');
  });

  it('an `until` in the past is refused at invitation (400)', async () => {
    const child = await enrolled(staff.staff, 'CHILD');
    const res = await api(`/patients/${child.patientId}/portal/proxies`, {
      method: 'POST',
      token: staff.staff,
      body: inviteBody('x@example.test', { until: new Date(Date.now() - 60_000).toISOString() }),
    });
    expect(res.status).toBe(400);
  });
});
