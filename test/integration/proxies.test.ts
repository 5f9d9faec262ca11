/**
 * Proxy (caregiver) access over HTTP against the local emulators (issue 18, security rule 32):
 * staff invite a proxy → the proxy registers a login of their own or adds the record to the
 * login they have → GET /account lists the record → GET /account/records/{id} opens it → staff
 * or the patient end it → the proxy's NEXT request for that record is refused while their own
 * record still works. Every hostile path beside the happy one.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox, setClockOffset, stack } from './support/stack.ts';
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

describe('one login, several records; existing logins', () => {
  it('relationship "self" with existingLogin joins a second record of the same person: role self on both', async () => {
    const first = await registered(staff.staff, 'SITE1');
    const second = await enrolled(staff.staff, 'SITE2');
    const inv = await staffInvite(second.patientId, { relationship: 'self', name: 'Same Person' });
    const look = await api('/invitations/lookup', { method: 'POST', body: { token: inv.token } });
    expect(look.json).toMatchObject({ kind: 'proxy', self: true });
    // A new login cannot take a "self" invitation: it joins a login the person already has.
    expect((await register({ token: inv.token, pin: inv.pin, username: newUsername(), password: proxyPassword })).status).toBe(409);
    const joined = await register({ token: inv.token, pin: inv.pin, existingLogin: { username: first.username, password: firstPassword } });
    expect(joined.status, JSON.stringify(joined.json)).toBe(201);
    const token = (await signIn(first.username, firstPassword)).json.accessToken as string;
    const me = await account(token);
    expect(me.json.records.map((r: { patientId: string; role: string }) => [r.patientId, r.role])).toEqual([
      [first.patientId, 'self'],
      [second.patientId, 'self'],
    ]);
    const rec = await api(`/patients/${second.patientId}/portal`, { token: staff.staff });
    expect(rec.json).toMatchObject({ accountId: me.json.accountId, registration: 'NormalRegistration' });
    // A record with its own login cannot be joined as "self" again (409 at invitation).
    const again = await api(`/patients/${second.patientId}/portal/proxies`, { method: 'POST', token: staff.staff, body: inviteBody('x@example.test', { relationship: 'self' }) });
    expect(again.status).toBe(409);
  });

  it('a proxy invitation used by a login that already reaches the record: 409, and the link still works for another login', async () => {
    const p = await proxyWithNewLogin();
    const second = await staffInvite(p.child.patientId);
    const res = await register({ token: second.token, pin: second.pin, existingLogin: { username: p.username, password: proxyPassword } });
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/already-reaches$/);
    expect((await api('/invitations/lookup', { method: 'POST', body: { token: second.token } })).status).toBe(200);
    // The record's own login cannot take it either.
    const own = await registered(staff.staff, 'OWN');
    const inv = await staffInvite(own.patientId);
    expect((await register({ token: inv.token, pin: inv.pin, existingLogin: { username: own.username, password: firstPassword } })).status).toBe(409);
  });

  it('existingLogin with a wrong password: 401 and nothing changes (the link still works)', async () => {
    const parent = await registered(staff.staff, 'PARENT');
    const child = await enrolled(staff.staff, 'CHILD');
    const inv = await staffInvite(child.patientId);
    const res = await register({ token: inv.token, pin: inv.pin, existingLogin: { username: parent.username, password: 'not the password at all' } });
    expect(res.status).toBe(401);
    const unknown = await register({ token: inv.token, pin: inv.pin, existingLogin: { username: newUsername(), password: 'not the password at all' } });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual({ ...res.json, instance: unknown.json.instance });
    expect((await api('/invitations/lookup', { method: 'POST', body: { token: inv.token } })).status).toBe(200);
  });

  it('20 concurrent acceptances of one proxy link: exactly one 201, the rest 409 or 410; one grant Active', async () => {
    const child = await enrolled(staff.staff, 'CHILD');
    const inv = await staffInvite(child.patientId);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => register({ token: inv.token, pin: inv.pin, username: newUsername(), password: proxyPassword })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const s of statuses) expect([201, 409, 410]).toContain(s);
    const listed = await api(`/patients/${child.patientId}/portal/proxies`, { token: staff.staff });
    expect(listed.json.items).toEqual([expect.objectContaining({ status: 'Active', accountId: answers.find((a) => a.status === 201)!.json.accountId })]);
  });
});

describe('hostile paths', () => {
  it('a proxy cannot see or manage the proxies of the record it acts for (403), nor invite for it', async () => {
    const p = await proxyWithNewLogin();
    expect((await api('/account/proxies', { token: p.token })).status).toBe(403);
    expect((await api('/account/proxies', { method: 'POST', token: p.token, body: inviteBody('y@example.test') })).status).toBe(403);
    expect((await api(`/account/proxies/${p.inv.proxyId}`, { method: 'DELETE', token: p.token })).status).toBe(403);
    expect((await openRecord(p.token, p.child.patientId)).status).toBe(200);
  });

  it('a proxy with a record of their own manages only their own record\'s proxies: the child\'s proxy id is 404 there', async () => {
    const parent = await registered(staff.staff, 'PARENT');
    const child = await enrolled(staff.staff, 'CHILD');
    const inv = await staffInvite(child.patientId);
    expect((await register({ token: inv.token, pin: inv.pin, existingLogin: { username: parent.username, password: firstPassword } })).status).toBe(201);
    const token = (await signIn(parent.username, firstPassword)).json.accessToken as string;
    expect((await api('/account/proxies', { token })).json.items).toEqual([]);
    expect((await api(`/account/proxies/${inv.proxyId}`, { method: 'DELETE', token })).status).toBe(404);
    expect((await openRecord(token, child.patientId)).status).toBe(200);
  });

  it('a patient naming another record in a path: 403 for a record they do not reach, 404 for another record\'s proxy', async () => {
    const a = await registered(staff.staff, 'PATA');
    const b = await proxyWithNewLogin();
    expect((await openRecord(a.tokens.accessToken, b.child.patientId)).status).toBe(403);
    expect((await openRecord(a.tokens.accessToken, 'NO-SUCH-RECORD')).status).toBe(403);
    expect((await api(`/account/proxies/${b.inv.proxyId}`, { method: 'DELETE', token: a.tokens.accessToken })).status).toBe(404);
    expect((await openRecord(b.token, b.child.patientId)).status).toBe(200);
  });

  it('the link after cancel (end while Invited), a record email change and access off: 410 each', async () => {
    const ended = await enrolled(staff.staff, 'CHILD');
    const inv1 = await staffInvite(ended.patientId);
    expect((await api(`/patients/${ended.patientId}/portal/proxies/${inv1.proxyId}`, { method: 'DELETE', token: staff.staff })).status).toBe(200);
    expect((await api('/invitations/lookup', { method: 'POST', body: { token: inv1.token } })).status).toBe(410);
    expect((await register({ token: inv1.token, pin: inv1.pin, username: newUsername(), password: proxyPassword })).status).toBe(410);

    const moved = await enrolled(staff.staff, 'CHILD');
    const inv2 = await staffInvite(moved.patientId);
    expect((await api(`/patients/${moved.patientId}/portal`, { method: 'PUT', token: staff.staff, body: { email: `new-${moved.email}` } })).status).toBe(200);
    expect((await register({ token: inv2.token, pin: inv2.pin, username: newUsername(), password: proxyPassword })).status).toBe(410);

    const off = await enrolled(staff.staff, 'CHILD');
    const inv3 = await staffInvite(off.patientId);
    expect((await api(`/patients/${off.patientId}/portal`, { method: 'PUT', token: staff.staff, body: { accessEnabled: false } })).status).toBe(200);
    expect((await register({ token: inv3.token, pin: inv3.pin, username: newUsername(), password: proxyPassword })).status).toBe(410);
    // Turning access on again revives nothing (rule 29).
    expect((await api(`/patients/${off.patientId}/portal`, { method: 'PUT', token: staff.staff, body: { accessEnabled: true } })).status).toBe(200);
    expect((await register({ token: inv3.token, pin: inv3.pin, username: newUsername(), password: proxyPassword })).status).toBe(410);
  });

  it('rule 32: access turned off on the record refuses its proxy at once; the proxy\'s own login still works', async () => {
    const p = await proxyWithNewLogin();
    expect((await api(`/patients/${p.child.patientId}/portal`, { method: 'PUT', token: staff.staff, body: { accessEnabled: false } })).status).toBe(200);
    expect((await openRecord(p.token, p.child.patientId)).status).toBe(403);
    expect((await account(p.token)).status).toBe(200);
  });

  it('inviting without invite permission: 403; an expired proxy link: 410', async () => {
    const child = await enrolled(staff.staff, 'CHILD');
    await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: staff.admin, body: { canInvite: false } });
    try {
      const res = await api(`/patients/${child.patientId}/portal/proxies`, { method: 'POST', token: staff.staff, body: inviteBody('z@example.test') });
      expect(res.status).toBe(403);
    } finally {
      await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: staff.admin, body: { canInvite: true } });
    }
    const inv = await staffInvite(child.patientId);
    await setClockOffset(14 * DAY + 60_000);
    expect((await register({ token: inv.token, pin: inv.pin, username: newUsername(), password: proxyPassword })).status).toBe(410);
  });
});

describe('audit: the patient sees their proxies\' sign-ins', () => {
  it('GET /account/sign-ins lists the proxy\'s sign-ins while they hold access, naming them (`by`); the proxy-only login sees its own', async () => {
    const child = await registered(staff.staff, 'CHILD');
    const email = `${uniqueId('proxy').toLowerCase()}@example.test`;
    const inv = await api('/account/proxies', { method: 'POST', token: child.tokens.accessToken, body: { ...inviteBody(email), name: 'Robin Helper' } });
    expect(inv.status).toBe(201);
    const username = newUsername();
    expect((await register({ token: await proxyToken(email), pin: inv.json.pin, username, password: proxyPassword })).status).toBe(201);
    const proxy = await signIn(username, proxyPassword);
    expect(proxy.status).toBe(200);
    const seen = await api('/account/sign-ins', { token: child.tokens.accessToken });
    expect(seen.status).toBe(200);
    expect(seen.json.items).toEqual(expect.arrayContaining([expect.objectContaining({ by: 'Robin Helper', outcome: 'success', words: 'Signed in' })]));
    expect(seen.json.items.some((i: { by?: string }) => i.by === undefined)).toBe(true);
    const own = await api('/account/sign-ins', { token: proxy.json.accessToken });
    expect(own.status).toBe(200);
    expect(own.json.items).toEqual([expect.objectContaining({ outcome: 'success' })]);
  });
});

describe('a proxy-only login changes its own credentials (PUT /account/credentials)', () => {
  const credentials = (token: string, body: Record<string, unknown>) => api('/account/credentials', { method: 'PUT', token, body });
  const newPassword = 'copper lantern meadow otter';

  it('rule 17: a new password and username → every older token refused, the new password signs in, the old one does not', async () => {
    const p = await proxyWithNewLogin();
    const other = await signIn(p.username, proxyPassword);
    expect(other.status).toBe(200);
    const renamed = newUsername();
    const changed = await credentials(p.token, { currentPassword: proxyPassword, newPassword, newUsername: renamed });
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    expect((await account(p.token)).status).toBe(401);
    expect((await account(other.json.accessToken)).status).toBe(401);
    const me = await account(changed.json.accessToken);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ accountId: p.accountId, username: renamed, records: [expect.objectContaining({ patientId: p.child.patientId, role: 'proxy' })] });
    expect((await signIn(renamed, proxyPassword)).status).toBe(401);
    expect((await signIn(p.username, newPassword)).status).toBe(401);
    const again = await signIn(renamed, newPassword);
    expect(again.status).toBe(200);
    expect((await openRecord(again.json.accessToken, p.child.patientId)).status).toBe(200);
  });

  it('rule 17: a password change alone also ends the older tokens; the fresh token works', async () => {
    const p = await proxyWithNewLogin();
    const changed = await credentials(p.token, { currentPassword: proxyPassword, newPassword });
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    expect((await account(p.token)).status).toBe(401);
    expect((await account(changed.json.accessToken)).json).toMatchObject({ username: p.username });
    expect((await signIn(p.username, proxyPassword)).status).toBe(401);
    expect((await signIn(p.username, newPassword)).status).toBe(200);
  });

  it('rule 5: a wrong current password is 401 and counts as a failed sign-in (the 5th locks the right password out: 429); the token still works', async () => {
    const p = await proxyWithNewLogin();
    for (let i = 0; i < 5; i++) {
      const wrong = await credentials(p.token, { currentPassword: 'not the password at all', newUsername: newUsername() });
      expect(wrong.status, JSON.stringify(wrong.json)).toBe(401);
    }
    expect((await signIn(p.username, proxyPassword)).status).toBe(429);
    expect((await account(p.token)).status).toBe(200);
  });

  it('rule 27: a username taken by another login is 409 only after the password is proven (401 with a wrong one); nothing changes', async () => {
    const p = await proxyWithNewLogin();
    const q = await proxyWithNewLogin();
    expect((await credentials(p.token, { currentPassword: 'not the password at all', newUsername: q.username })).status).toBe(401);
    const taken = await credentials(p.token, { currentPassword: proxyPassword, newUsername: q.username });
    expect(taken.status, JSON.stringify(taken.json)).toBe(409);
    expect(taken.json.type).toBe('/problems/username-taken');
    expect((await account(p.token)).json).toMatchObject({ username: p.username });
    expect((await signIn(q.username, proxyPassword)).status).toBe(200);
  });
});
