/**
 * The foundation routes over HTTP against the real emulators: staff sign-in, the portal record
 * with optimistic concurrency and its audit trail, search, settings and permissions, and the
 * contract's bad-input answers.
 */
import { AdminCreateUserCommand, AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, cognito, signInDirect, stack } from './support/stack.ts';
import { freshCode, staffSession } from './support/staff-session.ts';

let admin: string;
let staff: string;

beforeAll(async () => {
  admin = (await staffSession('admin')).accessToken;
  staff = (await staffSession('staff')).accessToken;
});

describe('staff sign-in', () => {
  it('rule 30: the seeded admin gets a SOFTWARE_TOKEN_MFA challenge for the password, and tokens for the code', async () => {
    const { username, password, totpSecret } = stack().admin;
    const res = await api('/staff/sessions', { method: 'POST', body: { username, password } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
    const done = await api('/staff/sessions/challenge', {
      method: 'POST',
      body: { session: res.json.session, challenge: 'SOFTWARE_TOKEN_MFA', code: await freshCode(username, totpSecret) },
    });
    expect(done.status).toBe(200);
    expect(done.json).toEqual({ accessToken: expect.any(String), idToken: expect.any(String), refreshToken: expect.any(String), expiresIn: expect.any(Number) });
  });

  it('rule 13: answers a wrong password and an unknown user with the same 401 body', async () => {
    const wrong = await api('/staff/sessions', { method: 'POST', body: { username: stack().staff.username, password: 'not the password at all' } });
    const unknown = await api('/staff/sessions', { method: 'POST', body: { username: 'nobody-here', password: 'not the password at all' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(wrong.json);
    expect(wrong.headers.get('content-type')).toBe('application/problem+json');
  });

  it('rule 5: after 5 failures on one account, the next attempt gets 429 with Retry-After, even with the right password', async () => {
    const username = 'throttle-target';
    const password = 'a long enough password for the staff pool';
    await cognito().send(new AdminCreateUserCommand({ UserPoolId: stack().staffUserPoolId, Username: username, MessageAction: 'SUPPRESS' }));
    await cognito().send(new AdminSetUserPasswordCommand({ UserPoolId: stack().staffUserPoolId, Username: username, Password: password, Permanent: true }));
    for (let i = 0; i < 5; i++) {
      expect((await api('/staff/sessions', { method: 'POST', body: { username, password: `wrong guess ${i}` } })).status).toBe(401);
    }
    const blocked = await api('/staff/sessions', { method: 'POST', body: { username, password } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('the portal record', () => {
  it('is created by PUT and read back with its status message; a stale If-Match gets 409', async () => {
    const created = await api('/patients/P-1/portal', { method: 'PUT', token: admin, body: { email: 'pat@example.test', cases: ['C-100'], masterCase: 'MC-1' } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ patientId: 'P-1', version: 1, accessEnabled: true, registration: 'NotRegistered', invite: { status: 'None' } });

    const read = await api('/patients/P-1/portal', { token: staff });
    expect(read.status).toBe(200);
    expect(read.json.statusMessage).toBe('Enabled / Not Registered / No Invite');
    expect(read.headers.get('etag')).toBe('"1"');

    const edited = await api('/patients/P-1/portal', { method: 'PUT', token: staff, headers: { 'if-match': '1' }, body: { accessEnabled: false } });
    expect(edited.status).toBe(200);
    expect(edited.json).toMatchObject({ version: 2, statusMessage: 'Disabled / Not Registered / No Invite' });

    const stale = await api('/patients/P-1/portal', { method: 'PUT', token: staff, headers: { 'if-match': '1' }, body: { comment: 'late' } });
    expect(stale.status).toBe(409);
    expect(stale.json.type).toBe('/problems/version-conflict');
    expect((await api('/patients/P-1/portal', { token: staff })).json).not.toHaveProperty('comment');
  });

  it('answers 404 for a record that does not exist', async () => {
    const res = await api('/patients/P-none/portal', { token: staff });
    expect(res.status).toBe(404);
  });

  it('concurrent edits without If-Match are all kept', async () => {
    await api('/patients/P-race/portal', { method: 'PUT', token: staff, body: {} });
    const edits = Array.from({ length: 5 }, (_, i) => api('/patients/P-race/portal', { method: 'PUT', token: staff, body: { cases: [`C-${i}`] } }));
    const results = await Promise.all(edits);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const audit = await api('/patients/P-race/portal/audit', { token: admin });
    // One creation plus one entry per edit that changed something: none was lost.
    const final = await api('/patients/P-race/portal', { token: staff });
    expect(audit.json.items).toHaveLength(final.json.version);
  });

  it('rule 18: keeps an audit trail, newest first, with actor and field names but no values; admin only', async () => {
    await api('/patients/P-audit/portal', { method: 'PUT', token: admin, body: { email: 'audit.me@example.test' } });
    await api('/patients/P-audit/portal', { method: 'PUT', token: staff, body: { phone: '+15551230000' } });
    const trail = await api('/patients/P-audit/portal/audit', { token: admin });
    expect(trail.status).toBe(200);
    expect(trail.json.items.map((i: { action: string; actor: string }) => [i.action, i.actor])).toEqual([
      ['portal-record.updated', stack().staff.username],
      ['portal-record.created', stack().admin.username],
    ]);
    expect(trail.json.items[0].detail).toMatchObject({ fields: ['phone'], outcome: 'success' });
    expect(JSON.stringify(trail.json)).not.toMatch(/audit\.me@example\.test|5551230000/);
    expect((await api('/patients/P-audit/portal/audit', { token: staff })).status).toBe(403);
  });
});

describe('search', () => {
  beforeAll(async () => {
    for (const [id, body] of [
      ['SRCH-001', { email: 'Alpha@Example.test', masterCase: 'CASE-77' }],
      ['SRCH-002', {}],
      ['OTHER-1', {}],
    ] as const) {
      expect((await api(`/patients/${id}/portal`, { method: 'PUT', token: staff, body })).status).toBe(200);
    }
  });

  const ids = (res: { json: { items: { patientId: string }[] } }) => res.json.items.map((i) => i.patientId);

  it('finds by patientId prefix, email (any case) and masterCase', async () => {
    expect(ids(await api('/patients?query=SRCH-', { token: staff }))).toEqual(['SRCH-001', 'SRCH-002']);
    expect(ids(await api('/patients?query=alpha%40example.test', { token: staff }))).toEqual(['SRCH-001']);
    expect(ids(await api('/patients?query=CASE-77', { token: staff }))).toEqual(['SRCH-001']);
    expect(ids(await api('/patients?query=nothing-matches', { token: staff }))).toEqual([]);
  });

  it('pages with a cursor until every record has been listed once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await api(`/patients?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: staff });
      expect(res.status).toBe(200);
      seen.push(...ids(res));
      cursor = res.json.cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['SRCH-001', 'SRCH-002', 'OTHER-1', 'P-1']));
  });
});

describe('settings and permissions', () => {
  it('settings: staff read, only admins change, partial changes keep the rest', async () => {
    const before = await api('/settings', { token: staff });
    expect(before.json).toMatchObject({ invitationDays: 14, temporaryPasswordHours: 72, lobbyMinutes: 60, resetMinutes: 60, selfRegistration: false, patientReset: true, autoInvite: false });
    expect((await api('/settings', { method: 'PUT', token: staff, body: { autoInvite: true } })).status).toBe(403);
    const after = await api('/settings', { method: 'PUT', token: admin, body: { practiceName: 'Riverside Clinic', resetMinutes: 30 } });
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({ practiceName: 'Riverside Clinic', resetMinutes: 30, invitationDays: 14 });
    expect((await api('/settings', { token: staff })).json.resetMinutes).toBe(30);
  });

  it('permissions: default invite on; an admin takes it away; unknown staff is 404', async () => {
    const who = stack().staff.username;
    expect((await api(`/staff/${who}/permissions`, { token: staff })).json).toEqual({ canInvite: true, autoInvite: false });
    expect((await api(`/staff/${who}/permissions`, { method: 'PUT', token: staff, body: { canInvite: false } })).status).toBe(403);
    const changed = await api(`/staff/${who}/permissions`, { method: 'PUT', token: admin, body: { canInvite: false } });
    expect(changed.json).toEqual({ canInvite: false, autoInvite: false });
    expect((await api(`/staff/${who}/permissions`, { token: staff })).json.canInvite).toBe(false);
    // The stack is shared with later files: give the permission back.
    await api(`/staff/${who}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true } });
    expect((await api('/staff/no-such-person/permissions', { token: admin })).status).toBe(404);
    expect((await api('/staff/no-such-person/permissions', { method: 'PUT', token: admin, body: { canInvite: true } })).status).toBe(404);
  });
});

describe('bad input over HTTP', () => {
  let patientToken: string;
  beforeAll(async () => {
    const username = 'patient-for-pool-test';
    const password = 'a patient password that is long';
    await cognito().send(new AdminCreateUserCommand({ UserPoolId: stack().patientUserPoolId, Username: username, MessageAction: 'SUPPRESS' }));
    await cognito().send(new AdminSetUserPasswordCommand({ UserPoolId: stack().patientUserPoolId, Username: username, Password: password, Permanent: true }));
    patientToken = (await signInDirect('patient', username, password)).accessToken;
  });

  const table: { name: string; path: string; method?: string; body?: unknown; token?: () => string | undefined; headers?: Record<string, string>; status: number }[] = [
    { name: 'malformed JSON', path: '/patients/P-1/portal', method: 'PUT', body: '{"email":', headers: { 'content-type': 'application/json' }, token: () => staff, status: 400 },
    { name: 'an unknown field', path: '/patients/P-1/portal', method: 'PUT', body: { favouriteColour: 'blue' }, token: () => staff, status: 400 },
    { name: 'an oversized body', path: '/patients/P-1/portal', method: 'PUT', body: { comment: 'x'.repeat(20_000) }, token: () => staff, status: 413 },
    { name: 'a bad patientId', path: '/patients/P%201/portal', token: () => staff, status: 400 },
    { name: 'a missing token', path: '/patients/P-1/portal', status: 401 },
    { name: 'a garbage token', path: '/patients/P-1/portal', token: () => 'not.a.jwt-at-all', status: 401 },
    { name: 'a patient-pool token on a staff route', path: '/patients/P-1/portal', token: () => patientToken, status: 401 },
    { name: 'staff without admin on the audit trail', path: '/patients/P-1/portal/audit', token: () => staff, status: 403 },
    { name: 'staff without admin on PUT /settings', path: '/settings', method: 'PUT', body: { lobbyMinutes: 30 }, token: () => staff, status: 403 },
    { name: 'an unknown path', path: '/no/such/route', status: 404 },
  ];

  it.each(table)('$name → $status, problem+json', async ({ path, method, body, token, headers, status }) => {
    const res = await api(path, { method: method ?? 'GET', body, token: token?.(), headers });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//), title: expect.any(String) });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('a staff token whose expiry was pushed back by hand is refused (signed expired tokens: test/handlers)', async () => {
    const [h, p, sig] = admin.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.exp = Math.floor(Date.now() / 1000) + 86_400 * 365;
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    expect((await api('/settings', { token: tampered })).status).toBe(401);
  });
});

describe('service documents', () => {
  it('GET /health is 200 and GET /openapi.json documents the routes', async () => {
    expect((await api('/health')).json).toEqual({ status: 'ok' });
    const doc = await api('/openapi.json');
    expect(doc.json.openapi).toBe('3.1.0');
    expect(doc.json.paths).toHaveProperty('/patients/{patientId}/portal');
  });
});
