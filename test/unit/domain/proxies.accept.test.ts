/**
 * Accepting a proxy invitation (POST /invitations/lookup and POST /registrations with a `px.`
 * token; rules 5, 29, 32, 34): the link and its PIN, a new proxy-only login or an existing login
 * proved at the pool under the sign-in throttle, "self" joins, and the link after each state
 * change. Over the real adapter on the in-memory DynamoDB, the pool in memory.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { checkProxyInvitation, inviteProxy, registerWithProxyLink, resolveAccess, type ProxyRegistration } from '../../../lambdas/domain/proxies.ts';
import { throttleKeys } from '../../../lambdas/domain/sign-in-throttle.ts';
import { goodPassword, proxyWorld, staff } from './proxy-harness.ts';

const ip = '198.51.100.20';
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof DomainError ? `${e.kind}/${e.code}` : `thrown ${String(e)}`));
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as DomainError);

/** A child's record (P-1, with or without its own login), a parent with a record of their own (P-2), one proxy invitation out. */
async function invited(o: { relationship?: string; until?: string; childLogin?: boolean; scope?: 'full' | 'limited' } = {}) {
  const w = proxyWorld();
  await w.seed('P-1', { invite: { status: 'Pending' } as never }, o.childLogin === false ? undefined : { accountId: 'acc-child', username: 'child' });
  await w.seed('P-2', {}, { accountId: 'acc-parent', username: 'Parent.Name' });
  const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', {
    name: 'Pat Parent',
    email: 'pat@example.test',
    relationship: o.relationship ?? 'parent',
    scope: o.scope ?? 'full',
    ...(o.until ? { until: o.until } : {}),
  });
  const token = w.tokenFor('pat@example.test');
  const register = (over: Partial<ProxyRegistration> = {}, deps = w.reg) => registerWithProxyLink(deps, { token, pin: out.pin, sourceIp: ip, ...over });
  return { w, ...out, token, register };
}
const existing = (username = 'parent.name', password = goodPassword) => ({ existingLogin: { username, password } });

describe('rule 32: looking the link up', () => {
  it('a live link answers the practice, its expiry, the PIN it needs and whether it joins as self', async () => {
    const { w, token, expiresAt } = await invited();
    expect(await checkProxyInvitation(w.reg, token, ip)).toEqual({ practiceName: 'Maple Clinic', expiresAt, needs: ['pin'], kind: 'proxy', self: false });
    const self = await invited({ relationship: 'Self', childLogin: false });
    expect((await checkProxyInvitation(self.w.reg, self.token, ip)).self).toBe(true);
  });

  it('the token without its prefix, or another token: 410', async () => {
    const { w, token } = await invited();
    expect(await codeOf(checkProxyInvitation(w.reg, `px.${token}`, ip))).toBe('gone/invitation-gone');
    expect(await codeOf(checkProxyInvitation(w.reg, 'px.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ip))).toBe('gone/invitation-gone');
  });
});

describe('rule 32 + rule 5: accepting with a new login of the proxy\'s own', () => {
  it('a wrong PIN with the right link: 401 wrong-pin, audited on the patient\'s trail, nothing accepted', async () => {
    const { w, register, proxyId, pin } = await invited();
    const wrong = pin === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
    expect(await codeOf(register({ pin: wrong, username: 'pat.helper', password: goodPassword }))).toBe('unauthorized/wrong-pin');
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    expect(w.users.size).toBe(2);
    expect(w.audits().find((a) => a.action === 'proxy.wrong-pin')).toMatchObject({ target: 'patient:P-1', detail: { proxyId } });
  });

  it('the right PIN: a proxy-only login (pool, ACCOUNT# with its name and generation 0, USERNAME#), the grant Active, the login side, audited; the link is then used', async () => {
    const { w, register, proxyId, token } = await invited({ until: '2027-01-01T00:00:00.000Z', scope: 'limited' });
    const out = await register({ username: 'Pat.Helper', password: goodPassword });
    expect(out.username).toBe('Pat.Helper');
    const { accountId } = out;
    expect(w.users.get(accountId)).toBe(goodPassword);
    expect(await w.accountItem(accountId)).toMatchObject({ accountId, username: 'Pat.Helper', generation: 0, proxyOnly: true });
    expect(await w.accountItem(accountId)).not.toHaveProperty('patientId');
    expect(await w.usernameItem('pat.helper')).toMatchObject({ accountId });
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Active', accountId, acceptedAt: w.clock().toISOString() });
    expect(await w.reach(accountId, 'P-1')).toMatchObject({ role: 'proxy', proxyId, until: '2027-01-01T00:00:00.000Z' });
    expect(await resolveAccess(w.deps, { accountId }, 'P-1')).toMatchObject({ role: 'proxy', scope: 'limited' });
    expect(w.audits().find((a) => a.action === 'proxy.accepted')).toMatchObject({
      target: 'patient:P-1',
      actor: `patient:${accountId}`,
      sourceIp: ip,
      detail: { proxyId, accountId, newLogin: true, self: false },
    });
    // The child's record is not taken by the proxy.
    expect(await w.record('P-1')).toMatchObject({ accountId: 'acc-child', username: 'child' });
    expect(await codeOf(register({ username: 'pat.again', password: goodPassword }))).toBe('gone/invitation-gone');
    expect(await codeOf(checkProxyInvitation(w.reg, token, ip))).toBe('gone/invitation-gone');
  });

  it('a right PIN whose attempt is refused later gives its try back: the link still accepts after more refusals than maxFailures', async () => {
    const { register } = await invited();
    for (let i = 0; i < 6; i++) expect(await codeOf(register({ username: 'child', password: goodPassword }))).toBe('conflict/username-taken');
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }))).toBe('no error');
  });

  it('no username or no password: 400 naming body.username; our password rules (not the grant\'s email): 400 naming body.password', async () => {
    const { register, w, proxyId } = await invited();
    for (const attempt of [{ password: goodPassword }, { username: 'pat.helper' }, { username: '', password: goodPassword }, { username: 'pat.helper', password: '' }]) {
      const err = await errorOf(register(attempt));
      expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
      expect(err?.extra.errors?.[0]?.path).toBe('body.username');
    }
    const err = await errorOf(register({ username: 'pat.helper', password: 'pat secret horse battery words' }));
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect(err?.extra.errors).toEqual([{ path: 'body.password', message: 'must not contain your email address' }]);
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
  });

  it('the pool refusing the password: 400 naming body.password, no login left, the link still works; a pool outage is passed on', async () => {
    const { w, register, proxyId } = await invited();
    const refusing = { ...w.reg, logins: { ...w.reg.logins, upsert: async () => Promise.reject(new DomainError('bad-request', 'validation-error', 'x')) } };
    const err = await errorOf(register({ username: 'pat.helper', password: goodPassword }, refusing));
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect(err?.extra.errors).toEqual([{ path: 'body.password', message: 'cannot be used by the sign-in service; choose another' }]);
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    const down = { ...w.reg, logins: { ...w.reg.logins, upsert: async () => Promise.reject(new Error('pool down')) } };
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }, down))).toBe('thrown Error: pool down');
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }))).toBe('no error');
  });

  it('a retry after an unfinished attempt completes the login it made (same accountId); never one that exists already', async () => {
    const { w, register } = await invited();
    const down = { ...w.reg, logins: { ...w.reg.logins, upsert: async () => Promise.reject(new Error('pool down')) } };
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }, down))).toBe('thrown Error: pool down');
    const fixed = (await w.proxies.links.get(`P-1#${(await w.proxies.grants('P-1'))[0]!.proxyId}`))?.accountId;
    expect(fixed).toBeDefined();
    expect((await register({ username: 'pat.helper', password: goodPassword })).accountId).toBe(fixed);
  });

  it('a link whose accountId an existing-login attempt fixed: a new-login acceptance takes a fresh accountId', async () => {
    const { w, register, proxyId } = await invited();
    // The existing-login attempt fixed acc-parent on the link, then its commit failed.
    const linkKey = `PROXYINVITE#P-1#${proxyId}|STATE`;
    const item = w.db.table('records').get(linkKey)!;
    w.db.table('records').set(linkKey, { ...item, accountId: 'acc-parent' });
    const out = await register({ username: 'pat.helper', password: goodPassword });
    expect(out.accountId).not.toBe('acc-parent');
    expect(w.users.get('acc-parent')).toBe(goodPassword);
    expect(await w.accountItem('acc-parent')).toMatchObject({ patientId: 'P-2' });
  });

  it('"self" needs the existing login: 409 self-needs-existing-login for a new one', async () => {
    const { register } = await invited({ relationship: 'self', childLogin: false });
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }))).toBe('conflict/self-needs-existing-login');
  });

  it('the grant ended or gone while its link still lives: 410', async () => {
    const { w, register, proxyId } = await invited();
    const g = (await w.proxies.grant('P-1', proxyId))!;
    await w.putGrant({ ...g, status: 'Ended' });
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }))).toBe('gone/invitation-gone');
    await w.putGrant({ ...g, status: 'Active' });
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }))).toBe('gone/invitation-gone');
    w.db.table('records').delete(`PATIENT#P-1|PROXY#${proxyId}`);
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }))).toBe('gone/invitation-gone');
  });

  it('a link state without its proxyId: 410 before the PIN is compared', async () => {
    const { w, register, proxyId } = await invited();
    const key = `PROXYINVITE#P-1#${proxyId}|STATE`;
    const item = w.db.table('records').get(key)!;
    w.db.table('records').set(key, { ...item, data: { relationship: 'parent' } });
    expect(await codeOf(register({ pin: 'ZZZZZZ', username: 'pat.helper', password: goodPassword }))).toBe('gone/invitation-gone');
  });
});

describe('rule 34: accepting with an existing login (proved at the pool, under the sign-in throttle)', () => {
  it('the right password: the grant names that login, its side is written, its refresh token revoked; no new login', async () => {
    const { w, register, proxyId } = await invited();
    const out = await register(existing('PARENT.name'));
    expect(out).toEqual({ accountId: 'acc-parent', username: 'Parent.Name' });
    expect(w.revoked).toEqual(['rt-acc-parent']);
    expect(w.users.size).toBe(2);
    expect(await w.accountItem('acc-parent')).toMatchObject({ patientId: 'P-2' });
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Active', accountId: 'acc-parent' });
    expect(await resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1')).toMatchObject({ role: 'proxy' });
    expect(w.audits().find((a) => a.action === 'proxy.accepted')?.detail).toEqual({ proxyId, accountId: 'acc-parent', newLogin: false, self: false });
    expect(w.throttle.accounts.size).toBe(0);
  });

  it('the wrong password with the right username, or an unknown username: the same 401 naming body.existingLogin, the pool asked each time, counted', async () => {
    const { w, register, proxyId } = await invited();
    const wrong = await errorOf(register(existing('parent.name', 'not the password at all')));
    const unknown = await errorOf(register(existing('nobody.here', goodPassword)));
    for (const err of [wrong, unknown]) {
      expect(err).toMatchObject({ kind: 'unauthorized', code: 'invalid-credentials' });
      expect(err?.extra.errors).toEqual([{ path: 'body.existingLogin', message: 'is not a login with that password' }]);
    }
    expect(w.signIns).toHaveLength(2);
    expect(w.signIns[0]).toBe('acc-parent');
    expect(w.signIns[1]).toMatch(/^unknown-/);
    expect(w.throttle.addresses.size).toBeGreaterThan(0);
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    expect(w.revoked).toEqual([]);
  });

  it('the throttle of that username refuses before the pool is asked (five failures in a row counted on it)', async () => {
    const { w, register } = await invited();
    const keys = throttleKeys('patient', 'parent.name', ip, w.clock());
    w.throttle.accounts.set(keys.accountKey, { failures: 5, lastFailureAt: w.clock().getTime() });
    expect((await errorOf(register(existing())))?.kind).toBe('too-many-requests');
    expect(w.signIns).toEqual([]);
    w.throttle.accounts.clear();
    expect(await codeOf(register(existing()))).toBe('no error');
  });

  it('a pool outage is not a wrong password: passed on as it is', async () => {
    const { w, register } = await invited();
    const down = { ...w.reg, logins: { ...w.reg.logins, signIn: async () => Promise.reject(new Error('pool down')) } };
    expect(await codeOf(register(existing(), down))).toBe('thrown Error: pool down');
  });

  it('a challenge answer (no tokens) revokes nothing; a failing revocation does not fail the acceptance', async () => {
    const { w, register } = await invited();
    const challenge = { ...w.reg, logins: { ...w.reg.logins, signIn: async () => ({ kind: 'challenge' as const, challenge: 'NEW_PASSWORD_REQUIRED', session: 's' }) } };
    expect(await codeOf(register(existing(), challenge))).toBe('no error');
    expect(w.revoked).toEqual([]);
    const second = await invited();
    const failing = { ...second.w.reg, logins: { ...second.w.reg.logins, revokeRefreshToken: async () => Promise.reject(new Error('x')) } };
    expect(await codeOf(second.register(existing(), failing))).toBe('no error');
  });

  it('a proxy-only login joins with the name on its ACCOUNT# item', async () => {
    const { w, register } = await invited();
    await w.db.send(new (await import('@aws-sdk/lib-dynamodb')).PutCommand({ TableName: 'records', Item: { pk: 'ACCOUNT#acc-only', sk: 'ACCOUNT', accountId: 'acc-only', username: 'Only.Helper', generation: 3, proxyOnly: true } }));
    await w.db.send(new (await import('@aws-sdk/lib-dynamodb')).PutCommand({ TableName: 'records', Item: { pk: 'USERNAME#only.helper', sk: 'USERNAME', accountId: 'acc-only' } }));
    w.users.set('acc-only', goodPassword);
    expect(await register(existing('ONLY.helper'))).toEqual({ accountId: 'acc-only', username: 'Only.Helper' });
  });

  it('a login with no ACCOUNT# item answers the name as typed', async () => {
    const { w, register } = await invited();
    await w.db.send(new (await import('@aws-sdk/lib-dynamodb')).PutCommand({ TableName: 'records', Item: { pk: 'USERNAME#ghost', sk: 'USERNAME', accountId: 'acc-ghost' } }));
    w.users.set('acc-ghost', goodPassword);
    expect(await register(existing('Ghost'))).toEqual({ accountId: 'acc-ghost', username: 'Ghost' });
  });
});

describe('rule 32: a login reaches a record once', () => {
  it('the record\'s own login: 409 already-reaches, the link still works for another login', async () => {
    const { register, w, proxyId } = await invited();
    expect(await codeOf(register(existing('child')))).toBe('conflict/already-reaches');
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    expect(await codeOf(register(existing()))).toBe('no error');
  });

  it('a login already joined as self (its side says self): 409', async () => {
    const { register, w } = await invited();
    await w.putReach({ accountId: 'acc-parent', patientId: 'P-1', proxyId: 'g-old', role: 'self' });
    expect(await codeOf(register(existing()))).toBe('conflict/already-reaches');
  });

  it('a login with an Active grant on the record: 409; with an Ended or lapsed one: accepted', async () => {
    const { register, w } = await invited();
    const old = { proxyId: 'g-old', patientId: 'P-1', name: 'x', email: 'x@example.test', relationship: 'parent', scope: 'full' as const, status: 'Active' as const, accountId: 'acc-parent', invitedAt: '2026-11-01T00:00:00.000Z', invitedBy: 'frontdesk', version: 2 };
    await w.putGrant(old);
    await w.putReach({ accountId: 'acc-parent', patientId: 'P-1', proxyId: 'g-old', role: 'proxy' });
    expect(await codeOf(register(existing()))).toBe('conflict/already-reaches');
    await w.putGrant({ ...old, until: '2026-11-30T09:00:00.000Z' });
    await w.putReach({ accountId: 'acc-parent', patientId: 'P-1', proxyId: 'g-old', role: 'proxy', until: '2026-11-30T09:00:00.000Z' });
    expect(await codeOf(register(existing()))).toBe('no error');
  });
});

describe('rule 32: "self" joins a second record of the same person to the login they have', () => {
  it('the record takes the login as its own (name, registration), its pending invitation is cancelled; the login side says self', async () => {
    const { w, register, proxyId } = await invited({ relationship: 'Self', childLogin: false });
    expect(await register(existing())).toEqual({ accountId: 'acc-parent', username: 'Parent.Name' });
    expect(await w.record('P-1')).toMatchObject({ accountId: 'acc-parent', username: 'Parent.Name', registration: 'NormalRegistration', invite: { status: 'Cancelled' } });
    expect(await w.reach('acc-parent', 'P-1')).toMatchObject({ role: 'self', proxyId });
    expect(await resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1')).toMatchObject({ role: 'self', scope: 'full' });
    expect(w.audits().find((a) => a.action === 'proxy.accepted')?.detail).toMatchObject({ self: true, newLogin: false });
  });
});

