/**
 * Mutation-testing rules for lambdas/domain/proxies.ts (issue 20) that the flow tests beside it
 * left open: two staff ending the same proxy at once, the field an invalid `until` names, a link
 * state that lost its data, an existing login whose record went or whose side is stale, a pool
 * that lets an unknown name in, and the reads ending and listing make (issue 16). Over the real
 * adapter on the in-memory DynamoDB, the pool in memory (proxy-harness.ts).
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  checkProxyInvitation,
  endProxy,
  inviteProxy,
  recordsOf,
  registerWithProxyLink,
  type ProxyRegistration,
  type ProxyRegistrationDeps,
} from '../../../lambdas/domain/proxies.ts';
import type { RecordStore } from '../../../lambdas/domain/ports.ts';
import { aGrant, goodPassword, proxyWorld, staff } from './proxy-harness.ts';

const ip = '198.51.100.40';
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof DomainError ? `${e.kind}/${e.code}` : `thrown ${String(e)}`));
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as DomainError);
const existing = (username = 'parent.name', password = goodPassword) => ({ existingLogin: { username, password } });

/** A child's record P-1 (with its own login unless `childLogin` is false), a parent with record P-2, one proxy invitation out. */
async function invited(o: { relationship?: string; childLogin?: boolean } = {}) {
  const w = proxyWorld();
  await w.seed('P-1', { invite: { status: 'Pending' } as never }, o.childLogin === false ? undefined : { accountId: 'acc-child', username: 'child' });
  await w.seed('P-2', {}, { accountId: 'acc-parent', username: 'Parent.Name' });
  const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', { name: 'Pat', email: 'pat@example.test', relationship: o.relationship ?? 'parent', scope: 'full' });
  const token = w.tokenFor('pat@example.test');
  const register = (over: Partial<ProxyRegistration> = {}, deps: ProxyRegistrationDeps = w.reg) => registerWithProxyLink(deps, { token, pin: out.pin, sourceIp: ip, ...over });
  return { w, ...out, token, register };
}

/** The registration deps whose record reads after the first (the link look-up's) answer no record: deleted meanwhile. */
function recordGoneAfterLookUp(reg: ProxyRegistrationDeps): ProxyRegistrationDeps {
  let reads = 0;
  const store = { ...reg.store, getRecord: async (id: string) => (id === 'P-1' && ++reads > 1 ? undefined : reg.store.getRecord(id)) } as RecordStore;
  return { ...reg, store };
}

describe('rule 32: two people ending the same proxy at once', () => {
  it('the second, whose read the first outran, is retried on a fresh read and answers the Ended view; ended once, audited once', async () => {
    const w = proxyWorld();
    await w.seed('P-1', {}, { accountId: 'acc-child', username: 'child' });
    await w.putGrant(aGrant());
    await w.putReach({ accountId: 'acc-proxy', patientId: 'P-1', proxyId: 'g-1', role: 'proxy' });
    const patient = { id: 'patient:acc-child', sourceIp: '198.51.100.9' };
    let first = true;
    const racing = {
      ...w.proxies,
      grant: async (patientId: string, proxyId: string) => {
        const read = await w.proxies.grant(patientId, proxyId);
        if (first) {
          first = false;
          // The patient's end lands between staff's read and staff's write (the real store's version check).
          await endProxy(w.deps, patient, 'P-1', 'g-1', 'patient');
        }
        return read;
      },
    };
    const view = await endProxy({ ...w.deps, proxies: racing }, staff, 'P-1', 'g-1', 'staff');
    expect(view).toMatchObject({ proxyId: 'g-1', status: 'Ended' });
    expect(await w.grant('P-1', 'g-1')).toMatchObject({ status: 'Ended', endedBy: 'patient:acc-child', version: 3 });
    expect(w.actions().filter((a) => a === 'proxy.ended')).toHaveLength(1);
  });
});

describe('an invitation whose `until` has passed names the field', () => {
  it('400 validation-error naming body.until, nothing stored or sent', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const err = await errorOf(
      inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', { name: 'Pat', email: 'pat@example.test', relationship: 'parent', scope: 'full', until: '2026-11-29T10:00:00Z' }),
    );
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect(err?.extra.errors).toEqual([{ path: 'body.until', message: expect.any(String) }]);
    expect(await w.proxies.grants('P-1')).toEqual([]);
    expect(w.mail.sent).toEqual([]);
  });
});

describe('rule 32, link life: a link state that lost its data', () => {
  const stripData = async (w: ReturnType<typeof proxyWorld>, proxyId: string) => {
    const key = `PROXYINVITE#P-1#${proxyId}|STATE`;
    const { data: _gone, ...item } = w.db.table('records').get(key)!;
    w.db.table('records').set(key, item);
  };

  it('the look-up answers it as a link that does not join as "self"', async () => {
    const { w, token, proxyId } = await invited();
    await stripData(w, proxyId);
    expect(await checkProxyInvitation(w.reg, token, ip)).toMatchObject({ kind: 'proxy', needs: ['pin'], self: false });
  });

  it('a registration with it is 410, nothing accepted, the PIN not compared', async () => {
    const { w, register, proxyId } = await invited();
    await stripData(w, proxyId);
    expect(await codeOf(register({ pin: 'ZZZZZZ', username: 'pat.helper', password: goodPassword }))).toBe('gone/invitation-gone');
    expect(await codeOf(register(existing()))).toBe('gone/invitation-gone');
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    expect(w.actions()).not.toContain('proxy.wrong-pin');
  });
});

describe('rule 32: an existing login joins a record once, and only a record that is still there', () => {
  it('the record deleted after the look-up: 410, for a proxy and for a "self" join; nothing accepted', async () => {
    for (const relationship of ['parent', 'self']) {
      const { w, register, proxyId } = await invited({ relationship, childLogin: false });
      expect(await codeOf(register(existing(), recordGoneAfterLookUp(w.reg)))).toBe('gone/invitation-gone');
      expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
      expect(await w.reach('acc-parent', 'P-1')).toBeUndefined();
    }
  });

  it('a login whose side says "self" for this record is refused 409 before the lease (no trace of it on the link), even when the record names another login now', async () => {
    const { w, register, proxyId } = await invited();
    await w.putReach({ accountId: 'acc-parent', patientId: 'P-1', proxyId: 'g-old', role: 'self' });
    expect(await codeOf(register(existing()))).toBe('conflict/already-reaches');
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    // Refused before the lease: the link stores no accountId of the refused login (the store's own
    // condition would refuse the commit too, but only after the lease had written it), and works for another one.
    expect((await w.proxies.links.get(`P-1#${proxyId}`))?.accountId).toBeUndefined();
    await w.seed('P-3', {}, { accountId: 'acc-aunt', username: 'aunt' });
    expect(await register(existing('aunt'))).toEqual({ accountId: 'acc-aunt', username: 'aunt' });
  });

  it('a login with an Active grant on the record is refused before the lease: no trace of it on the link, which works for another login', async () => {
    const { w, register, proxyId } = await invited();
    await w.putGrant(aGrant({ proxyId: 'g-old', accountId: 'acc-parent' }));
    await w.putReach({ accountId: 'acc-parent', patientId: 'P-1', proxyId: 'g-old', role: 'proxy' });
    expect(await codeOf(register(existing()))).toBe('conflict/already-reaches');
    expect((await w.proxies.links.get(`P-1#${proxyId}`))?.accountId).toBeUndefined();
    await w.seed('P-3', {}, { accountId: 'acc-aunt', username: 'aunt' });
    expect(await register(existing('aunt'))).toEqual({ accountId: 'acc-aunt', username: 'aunt' });
  });

  it('the record\'s own login is refused before the lease: no trace of it on the link, which works for another existing login', async () => {
    const { w, register, proxyId } = await invited();
    expect(await codeOf(register(existing('child')))).toBe('conflict/already-reaches');
    expect((await w.proxies.links.get(`P-1#${proxyId}`))?.accountId).toBeUndefined();
    expect(await register(existing())).toEqual({ accountId: 'acc-parent', username: 'Parent.Name' });
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Active', accountId: 'acc-parent' });
  });
});

describe('rule 34: an existing login is proved by the pool AND found by its name', () => {
  it('a pool that lets anyone in (a placeholder name it happens to know) still leaves an unknown username refused 401, counted', async () => {
    const { w, register, proxyId } = await invited();
    const lax = { ...w.reg, logins: { ...w.reg.logins, signIn: async () => ({ kind: 'tokens' as const, accessToken: 'a', idToken: 'i', refreshToken: 'r', expiresIn: 3600 }) } };
    const err = await errorOf(register(existing('nobody.here'), lax));
    expect(err).toMatchObject({ kind: 'unauthorized', code: 'invalid-credentials' });
    expect(err?.extra.errors).toEqual([{ path: 'body.existingLogin', message: expect.any(String) }]);
    expect([...w.throttle.accounts.values()].map((a) => a.failures)).toEqual([1]);
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
  });
});

describe('issue 16: ending and listing read only what they need', () => {
  it('ending an Active proxy reads no link (its link was used when it was accepted); ending an Invited one reads its link', async () => {
    const w = proxyWorld();
    await w.seed('P-1', {}, { accountId: 'acc-child', username: 'child' });
    await w.putGrant(aGrant());
    const read: string[] = [];
    const proxies = { ...w.proxies, links: { ...w.proxies.links, get: async (subject: string) => (read.push(subject), w.proxies.links.get(subject)) } };
    expect((await endProxy({ ...w.deps, proxies }, staff, 'P-1', 'g-1', 'staff')).status).toBe('Ended');
    expect(read).toEqual([]);
    const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', { name: 'Pat', email: 'pat@example.test', relationship: 'parent', scope: 'full' });
    await endProxy({ ...w.deps, proxies }, staff, 'P-1', out.proxyId, 'staff');
    expect(read).toEqual([`P-1#${out.proxyId}`]);
  });

  it('a proxy-only login\'s records: only the records its side names are read', async () => {
    const w = proxyWorld();
    await w.seed('P-1', {}, { accountId: 'acc-child', username: 'child' });
    await w.putGrant(aGrant({ accountId: 'acc-only' }));
    await w.putReach({ accountId: 'acc-only', patientId: 'P-1', proxyId: 'g-1', role: 'proxy' });
    const read: string[] = [];
    const store = { ...w.store, getRecord: async (id: string) => (read.push(id), w.store.getRecord(id)) } as RecordStore;
    expect((await recordsOf({ ...w.deps, store }, { accountId: 'acc-only', patientId: '' })).map((r) => r.patientId)).toEqual(['P-1']);
    expect(read).toEqual(['P-1']);
  });
});
