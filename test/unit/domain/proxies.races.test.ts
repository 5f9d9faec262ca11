/**
 * Proxy acceptance when something changes while it runs (rules 5, 29, 32): the record gains a
 * login, loses its access or changes its address between the look-up and the commit; another
 * attempt fixed its login on the link; a username taken at the last moment. Each one must end
 * refused with nothing half done (no grant naming the wrong login, no stray pool login). Also
 * the stored form of an ended link and the listing's independence from the record read.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { newRecord } from '../../../lambdas/domain/portal-record.ts';
import {
  endProxy,
  inviteProxy,
  listProxies,
  proxyLinkPolicy,
  registerWithProxyLink,
  type ProxyRegistration,
} from '../../../lambdas/domain/proxies.ts';
import { sha256 } from '../../../lambdas/domain/secrets.ts';
import { throttleKeys } from '../../../lambdas/domain/sign-in-throttle.ts';
import { aGrant, goodPassword, proxyWorld, staff } from './proxy-harness.ts';

const ip = '198.51.100.30';
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof DomainError ? `${e.kind}/${e.code}` : `thrown ${String(e)}`));

async function invited(o: { relationship?: string; childLogin?: boolean; invite?: 'Pending' | 'Locked' | 'None' } = {}) {
  const w = proxyWorld();
  await w.seed('P-1', { invite: { status: o.invite ?? 'Pending' } as never }, o.childLogin === false ? undefined : { accountId: 'acc-child', username: 'child' });
  await w.seed('P-2', {}, { accountId: 'acc-parent', username: 'Parent.Name' });
  const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', { name: 'Pat', email: 'pat@example.test', relationship: o.relationship ?? 'parent', scope: 'full' });
  const token = w.tokenFor('pat@example.test');
  const register = (over: Partial<ProxyRegistration> = {}, deps = w.reg) => registerWithProxyLink(deps, { token, pin: out.pin, sourceIp: ip, ...over });
  return { w, ...out, token, register };
}
const existing = { existingLogin: { username: 'parent.name', password: goodPassword } };

describe('rule 32: the record changes between the look-up and the commit', () => {
  it('the record gained a login meanwhile (a "self" link): 409 already-registered, not accepted', async () => {
    const { w, register, proxyId } = await invited({ relationship: 'self', childLogin: false });
    let reads = 0;
    const racing = {
      ...w.reg,
      store: {
        ...w.reg.store,
        getRecord: async (id: string) => {
          const r = await w.reg.store.getRecord(id);
          // The look-up's read sees no login; the next reads see the login another join just made.
          return id === 'P-1' && ++reads > 1 && r ? { ...r, accountId: 'acc-someone' } : r;
        },
      },
    };
    expect(await codeOf(register(existing, racing))).toBe('conflict/already-registered');
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
  });

  it('access turned off while the new login was being created: 410, the new pool login removed', async () => {
    const { w, register, proxyId } = await invited();
    const made: string[] = [];
    const racing = {
      ...w.reg,
      logins: {
        ...w.reg.logins,
        upsert: async (accountId: string, password: string) => {
          made.push(accountId);
          await w.putRecord({ ...(await w.record('P-1'))!, accessEnabled: false });
          return w.reg.logins.upsert(accountId, password);
        },
      },
    };
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }, racing))).toBe('gone/invitation-gone');
    expect(made).toHaveLength(1);
    expect(w.users.has(made[0]!)).toBe(false);
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
  });

  it('the record\'s address changed meanwhile (its link generation moved, rule 29): 410', async () => {
    const { w, register } = await invited();
    const racing = {
      ...w.reg,
      logins: {
        ...w.reg.logins,
        upsert: async (accountId: string, password: string) => {
          const r = (await w.record('P-1'))!;
          await w.putRecord({ ...r, email: 'new@example.test', linkGeneration: (r.linkGeneration ?? 0) + 1 });
          return w.reg.logins.upsert(accountId, password);
        },
      },
    };
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }, racing))).toBe('gone/invitation-gone');
  });

  it('the record deleted meanwhile: 410', async () => {
    const { w, register } = await invited();
    const racing = {
      ...w.reg,
      logins: {
        ...w.reg.logins,
        upsert: async (accountId: string, password: string) => {
          w.db.table('records').delete('PATIENT#P-1|RECORD');
          return w.reg.logins.upsert(accountId, password);
        },
      },
    };
    expect(await codeOf(register({ username: 'pat.helper', password: goodPassword }, racing))).toBe('gone/invitation-gone');
  });

  it('the existing login became the record\'s own meanwhile: 409 already-reaches at the commit, no grant for it', async () => {
    const { w, register, proxyId } = await invited({ childLogin: false });
    const links = {
      ...w.proxies.links,
      takeLease: async (...args: Parameters<typeof w.proxies.links.takeLease>) => {
        const out = await w.proxies.links.takeLease(...args);
        await w.putRecord({ ...(await w.record('P-1'))!, accountId: 'acc-parent', username: 'Parent.Name' });
        return out;
      },
    };
    expect(await codeOf(register(existing, { ...w.reg, proxies: { ...w.proxies, links } }))).toBe('conflict/already-reaches');
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    expect(await w.reach('acc-parent', 'P-1')).toBeUndefined();
  });

  it('another attempt fixed its own login on the link first: an existing-login acceptance is 409 in progress, never committed under that login', async () => {
    const { w, register, proxyId } = await invited();
    const links = {
      ...w.proxies.links,
      // As a store that keeps an accountId fixed earlier ("unless one is fixed already").
      takeLease: async (...args: Parameters<typeof w.proxies.links.takeLease>) => {
        const out = await w.proxies.links.takeLease(...args);
        return out.kind === 'taken' ? { ...out, state: { ...out.state, accountId: 'acc-other' } } : out;
      },
    };
    expect(await codeOf(register(existing, { ...w.reg, proxies: { ...w.proxies, links } }))).toBe('conflict/registration-in-progress');
    expect(await w.grant('P-1', proxyId)).toMatchObject({ status: 'Invited' });
    expect(await w.reach('acc-other', 'P-1')).toBeUndefined();
    // The lease was let go: the link works at once for the right attempt.
    expect(await codeOf(register(existing))).toBe('no error');
  });

  it('a username taken at the last moment: 409 username-taken, the new pool login removed', async () => {
    const { w, register } = await invited();
    const made: string[] = [];
    const racing = {
      ...w.reg,
      // Free when checked; taken by the time of the commit.
      accounts: { ...w.reg.accounts, findByUsername: async () => undefined },
      logins: {
        ...w.reg.logins,
        upsert: async (accountId: string, password: string) => {
          made.push(accountId);
          return w.reg.logins.upsert(accountId, password);
        },
      },
    };
    expect(await codeOf(register({ username: 'child', password: goodPassword }, racing))).toBe('conflict/username-taken');
    expect(w.users.has(made[0]!)).toBe(false);
  });
});

describe('rule 32: "self" joins and the record\'s invitation', () => {
  it('a Locked invitation is cancelled too; no invitation stays as it was', async () => {
    const locked = await invited({ relationship: 'self', childLogin: false, invite: 'Locked' });
    await locked.register(existing);
    expect((await locked.w.record('P-1'))?.invite.status).toBe('Cancelled');
    const none = await invited({ relationship: 'self', childLogin: false, invite: 'None' });
    await none.register(existing);
    expect((await none.w.record('P-1'))?.invite.status).toBe('None');
  });
});

describe('rule 5: an existing login\'s password is tried with a try reserved first', () => {
  it('while the pool is asked, the username\'s counter already holds the try; a right password clears it', async () => {
    const { w, register } = await invited();
    const key = throttleKeys('patient', 'parent.name', ip, w.clock()).accountKey;
    const seen: (number | undefined)[] = [];
    const watching = {
      ...w.reg,
      logins: {
        ...w.reg.logins,
        signIn: async (accountId: string, password: string) => {
          seen.push(w.throttle.accounts.get(key)?.failures);
          return w.reg.logins.signIn(accountId, password);
        },
      },
    };
    await register(existing, watching);
    expect(seen).toEqual([1]);
    expect(w.throttle.accounts.get(key)).toBeUndefined();
  });
});

describe('the PIN secret and the link policy', () => {
  it('a link state with no PIN stored never matches (and never throws)', async () => {
    const [pin] = proxyLinkPolicy.secrets;
    await expect(pin!.matches('ABCDEF', undefined, {} as never, newRecord('P-1', new Date()))).resolves.toBe(false);
  });

  it('a link state without data is not a "self" link', () => {
    const record = { ...newRecord('P-1', new Date()), accountId: 'acc-1' };
    expect(proxyLinkPolicy.recordAllows(record, {} as never)).toBe(true);
  });
});

describe('rule 32, link life: an ended invitation leaves no live pointer behind', () => {
  it('ending an Invited proxy deletes its token\'s pointer item', async () => {
    const { w, token, proxyId } = await invited();
    const pointerKey = `PROXYLINK#${sha256(token.slice(3))}|LINK`;
    expect(w.db.table('records').has(pointerKey)).toBe(true);
    await endProxy(w.deps, staff, 'P-1', proxyId, 'staff');
    expect(w.db.table('records').has(pointerKey)).toBe(false);
  });

  it('replacing an invitation deletes the old token\'s pointer item', async () => {
    const { w, token } = await invited();
    const pointerKey = `PROXYLINK#${sha256(token.slice(3))}|LINK`;
    await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', { name: 'Pat', email: 'pat@example.test', relationship: 'parent', scope: 'full' });
    expect(w.db.table('records').has(pointerKey)).toBe(false);
  });
});

describe('listing for the patient does not need the record read', () => {
  it('requireRecord false: answered even when the record cannot be read', async () => {
    const w = proxyWorld();
    await w.putGrant(aGrant());
    const store = { ...w.store, getRecord: async () => Promise.reject(new Error('down')) };
    expect((await listProxies({ ...w.deps, store }, 'P-1', { requireRecord: false })).items).toHaveLength(1);
  });
});
