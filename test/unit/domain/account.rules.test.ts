/**
 * GET /account, GET /account/sign-ins and a proxy-only login's credential change at their edges
 * (issue 18, rules 5, 17, 24, 27, 32): what the caller is shown, what is refused, what is stored.
 */
import { describe, expect, it } from 'vitest';
import { accountOverview, accountSignIns, changeProxyLoginCredentials, type ProxyCredentialDeps } from '../../../lambdas/domain/account.ts';
import type { AuditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { LoginItem, ProxyGrant, ProxyStore } from '../../../lambdas/domain/proxies.ts';
import { accountThrottleKey } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const now = new Date('2026-11-30T10:00:00.000Z');

// ------------------------------------------------------------------------------ GET /account and its sign-ins

function records() {
  const mem = memoryStore();
  const items = new Map<string, LoginItem>();
  const grants: ProxyGrant[] = [];
  const proxies = {
    login: async (accountId: string) => items.get(accountId),
    grants: async (patientId: string) => grants.filter((g) => g.patientId === patientId),
    grant: async (patientId: string, proxyId: string) => grants.find((g) => g.patientId === patientId && g.proxyId === proxyId),
    reaches: async (accountId: string) =>
      grants.filter((g) => g.accountId === accountId).map((g) => ({ accountId, patientId: g.patientId, role: 'proxy' as const, proxyId: g.proxyId })),
    reach: async (accountId: string, patientId: string) => {
      const g = grants.find((x) => x.accountId === accountId && x.patientId === patientId);
      return g ? { accountId, patientId, role: 'proxy' as const, proxyId: g.proxyId } : undefined;
    },
  } as unknown as ProxyStore;
  const seed = (patientId: string, over: Partial<StoredRecord> = {}) => {
    const record: StoredRecord = {
      patientId,
      accountId: `acc-${patientId}`,
      username: `user-${patientId.toLowerCase()}`,
      email: `${patientId.toLowerCase()}@example.test`,
      accessEnabled: true,
      cases: [{ caseNumber: 'C-1', status: 'Open' }] as unknown as StoredRecord['cases'],
      registration: 'NormalRegistration',
      invite: { status: 'Accepted' },
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      version: 1,
      ...over,
    };
    mem.docs.set(`patient:${patientId}`, { value: record, version: record.version });
    items.set(record.accountId!, { accountId: record.accountId!, patientId });
    return record;
  };
  const grant = (over: Partial<ProxyGrant>): ProxyGrant => {
    const g: ProxyGrant = {
      proxyId: `px-${grants.length}`,
      patientId: 'P-1',
      name: 'Robin',
      email: 'robin@example.test',
      relationship: 'parent',
      scope: 'full',
      status: 'Active',
      accountId: 'acc-robin',
      invitedAt: '2026-11-01T00:00:00.000Z',
      invitedBy: 'staff-1',
      acceptedAt: '2026-11-10T00:00:00.000Z',
      version: 1,
      ...over,
    };
    grants.push(g);
    return g;
  };
  const signIn = (target: string, at: string, actor: string, outcome: 'success' | 'failure' = 'success', action = 'patient.sign-in') =>
    mem.audit.push({ target, at, actor, action, outcome, sourceIp: '198.51.100.9', detail: { reason: outcome === 'success' ? 'tokens' : 'invalid-credentials' } } as AuditEvent);
  const deps = { store: mem.store, proxies, clock: () => now };
  return { mem, items, grants, seed, grant, signIn, deps };
}

describe('rule 32: GET /account answers the login\'s own record and the records it reaches now', () => {
  it('a patient\'s login: its own view and records; no email when the record has none', async () => {
    const w = records();
    w.seed('P-1', { email: undefined });
    const view = await accountOverview(w.deps, { accountId: 'acc-P-1', patientId: 'P-1' });
    expect(view).toEqual({
      accountId: 'acc-P-1',
      username: 'user-p-1',
      cases: [{ caseNumber: 'C-1', status: 'Open' }],
      records: [{ patientId: 'P-1', role: 'self', scope: 'full', cases: [{ caseNumber: 'C-1', status: 'Open' }] }],
    });
  });

  it('a record gone since the token was issued is 404, not an empty account', async () => {
    const w = records();
    await expect(accountOverview(w.deps, { accountId: 'acc-P-9', patientId: 'P-9' })).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('a proxy-only login: its username from its own item, no email, no cases, the records it reaches', async () => {
    const w = records();
    w.seed('P-1');
    w.items.set('acc-robin', { accountId: 'acc-robin', username: 'robin.helper', generation: 2 });
    w.grant({ scope: 'limited' });
    const view = await accountOverview(w.deps, { accountId: 'acc-robin', patientId: '' });
    expect(view).toEqual({
      accountId: 'acc-robin',
      username: 'robin.helper',
      cases: [],
      records: [{ patientId: 'P-1', role: 'proxy', relationship: 'parent', proxyId: 'px-0', scope: 'limited', cases: [] }],
    });
  });

  it('a proxy-only item without a username answers an empty one; a missing item is 404', async () => {
    const w = records();
    w.items.set('acc-robin', { accountId: 'acc-robin' });
    expect(await accountOverview(w.deps, { accountId: 'acc-robin', patientId: '' })).toEqual({ accountId: 'acc-robin', username: '', cases: [], records: [] });
    await expect(accountOverview(w.deps, { accountId: 'acc-nobody', patientId: '' })).rejects.toMatchObject({ kind: 'not-found' });
  });
});

describe('issue 18 item 5: GET /account/sign-ins shows the login\'s and its proxies\' sign-ins while they held access', () => {
  it('a proxy-only login sees its own sign-ins (filed under its login), nothing else of its trail', async () => {
    const w = records();
    w.items.set('acc-robin', { accountId: 'acc-robin', username: 'robin.helper' });
    w.signIn('login:acc-robin', '2026-11-20T10:00:00.000Z', 'patient:acc-robin');
    w.signIn('login:acc-robin', '2026-11-21T10:00:00.000Z', 'patient:acc-robin', 'success', 'patient.credentials-changed');
    w.signIn('login:acc-other', '2026-11-22T10:00:00.000Z', 'patient:acc-other');
    const shown = await accountSignIns(w.deps, { accountId: 'acc-robin', patientId: '' });
    expect(shown).toEqual([{ at: '2026-11-20T10:00:00.000Z', outcome: 'success', words: 'Signed in', from: '198.51.100.9' }]);
  });

  it('the patient sees an accepted proxy\'s sign-ins from acceptance to now, named, newest first with their own', async () => {
    const w = records();
    w.seed('P-1');
    w.items.set('acc-robin', { accountId: 'acc-robin', username: 'robin.helper' });
    w.grant({ name: 'Robin', acceptedAt: '2026-11-10T00:00:00.000Z' });
    w.signIn('patient:P-1', '2026-11-12T00:00:00.000Z', 'patient:acc-P-1');
    w.signIn('login:acc-robin', '2026-11-09T23:59:59.999Z', 'patient:acc-robin'); // before acceptance
    w.signIn('login:acc-robin', '2026-11-10T00:00:00.000Z', 'patient:acc-robin', 'failure'); // at acceptance
    w.signIn('login:acc-robin', '2026-11-15T00:00:00.000Z', 'patient:acc-robin');
    w.signIn('login:acc-robin', '2026-11-16T00:00:00.000Z', 'patient:acc-robin', 'success', 'proxy.record-opened');
    const shown = await accountSignIns(w.deps, { accountId: 'acc-P-1', patientId: 'P-1' });
    expect(shown).toEqual([
      { at: '2026-11-15T00:00:00.000Z', outcome: 'success', words: 'Signed in', from: '198.51.100.9', by: 'Robin' },
      { at: '2026-11-12T00:00:00.000Z', outcome: 'success', words: 'Signed in', from: '198.51.100.9' },
      { at: '2026-11-10T00:00:00.000Z', outcome: 'failure', words: 'Wrong password', from: '198.51.100.9', by: 'Robin' },
    ]);
  });

  it('up to the earliest of its end, its until and now; exactly at that moment is still shown', async () => {
    const w = records();
    w.seed('P-1');
    w.items.set('acc-a', { accountId: 'acc-a' });
    w.items.set('acc-b', { accountId: 'acc-b' });
    w.items.set('acc-c', { accountId: 'acc-c' });
    // Ended after its until had passed: the until is the end.
    w.grant({ name: 'A', accountId: 'acc-a', until: '2026-11-20T00:00:00.000Z', endedAt: '2026-11-25T00:00:00.000Z', status: 'Ended' });
    // Ended before its until: the end is the end.
    w.grant({ name: 'B', accountId: 'acc-b', until: '2026-11-28T00:00:00.000Z', endedAt: '2026-11-22T00:00:00.000Z', status: 'Ended' });
    // An until still ahead: now is the end.
    w.grant({ name: 'C', accountId: 'acc-c', until: '2026-12-31T00:00:00.000Z' });
    w.signIn('login:acc-a', '2026-11-20T00:00:00.000Z', 'patient:acc-a');
    w.signIn('login:acc-a', '2026-11-21T00:00:00.000Z', 'patient:acc-a');
    w.signIn('login:acc-b', '2026-11-22T00:00:00.000Z', 'patient:acc-b');
    w.signIn('login:acc-b', '2026-11-23T00:00:00.000Z', 'patient:acc-b');
    w.signIn('login:acc-c', now.toISOString(), 'patient:acc-c');
    w.signIn('login:acc-c', '2026-11-30T10:00:00.001Z', 'patient:acc-c');
    const shown = await accountSignIns(w.deps, { accountId: 'acc-P-1', patientId: 'P-1' });
    expect(shown.map((s) => [(s as { by?: string }).by, s.at])).toEqual([
      ['C', now.toISOString()],
      ['B', '2026-11-22T00:00:00.000Z'],
      ['A', '2026-11-20T00:00:00.000Z'],
    ]);
  });

  it('a grant not yet accepted, one with no login, and a "self" grant show nothing', async () => {
    const w = records();
    w.seed('P-1');
    for (const id of ['acc-x', 'acc-y', 'acc-z']) w.items.set(id, { accountId: id });
    w.grant({ name: 'X', accountId: 'acc-x', acceptedAt: undefined, status: 'Invited' });
    w.grant({ name: 'Y', accountId: undefined, status: 'Invited' });
    w.grant({ name: 'Z', accountId: 'acc-z', relationship: ' Self ' });
    w.signIn('login:acc-x', '2026-11-20T00:00:00.000Z', 'patient:acc-x');
    w.signIn('login:undefined', '2026-11-20T00:00:00.000Z', 'patient:undefined');
    w.signIn('login:acc-z', '2026-11-20T00:00:00.000Z', 'patient:acc-z');
    expect(await accountSignIns(w.deps, { accountId: 'acc-P-1', patientId: 'P-1' })).toEqual([]);
  });

  it('a proxy with a record of its own: its sign-ins are read from that record, not the other logins\' there', async () => {
    const w = records();
    w.seed('P-1');
    w.seed('P-2', { accountId: 'acc-robin' });
    w.grant({ name: 'Robin', accountId: 'acc-robin' });
    w.signIn('patient:P-2', '2026-11-20T00:00:00.000Z', 'patient:acc-robin');
    w.signIn('patient:P-2', '2026-11-21T00:00:00.000Z', 'anonymous');
    w.signIn('login:acc-robin', '2026-11-22T00:00:00.000Z', 'patient:acc-robin');
    const shown = await accountSignIns(w.deps, { accountId: 'acc-P-1', patientId: 'P-1' });
    expect(shown.map((s) => [(s as { by?: string }).by, s.at])).toEqual([['Robin', '2026-11-20T00:00:00.000Z']]);
  });

  it('a proxy whose login item is gone: read from its login target', async () => {
    const w = records();
    w.seed('P-1');
    w.grant({ name: 'Robin', accountId: 'acc-gone' });
    w.signIn('login:acc-gone', '2026-11-20T00:00:00.000Z', 'patient:acc-gone');
    const shown = await accountSignIns(w.deps, { accountId: 'acc-P-1', patientId: 'P-1' });
    expect(shown.map((s) => [(s as { by?: string }).by, s.at])).toEqual([['Robin', '2026-11-20T00:00:00.000Z']]);
  });

  it('at most the 10 newest are shown, wherever they come from', async () => {
    const w = records();
    w.seed('P-1');
    w.items.set('acc-robin', { accountId: 'acc-robin' });
    w.grant({ name: 'Robin', acceptedAt: '2026-11-01T00:00:00.000Z' });
    for (let d = 10; d < 22; d++) w.signIn('login:acc-robin', `2026-11-${d}T00:00:00.000Z`, 'patient:acc-robin');
    for (let d = 10; d < 22; d++) w.signIn('patient:P-1', `2026-11-${d}T12:00:00.000Z`, 'patient:acc-P-1');
    const shown = await accountSignIns(w.deps, { accountId: 'acc-P-1', patientId: 'P-1' });
    expect(shown).toHaveLength(10);
    expect(shown[0]!.at).toBe('2026-11-21T12:00:00.000Z');
    expect(shown.at(-1)!.at).toBe('2026-11-17T00:00:00.000Z');
    const own = records();
    own.items.set('acc-robin', { accountId: 'acc-robin' });
    for (let d = 10; d < 22; d++) own.signIn('login:acc-robin', `2026-11-${d}T00:00:00.000Z`, 'patient:acc-robin');
    const mine = await accountSignIns(own.deps, { accountId: 'acc-robin', patientId: '' });
    expect(mine).toHaveLength(10);
    expect(mine[0]!.at).toBe('2026-11-21T00:00:00.000Z');
  });
});

// ------------------------------------------------------------------------------ PUT /account/credentials, proxy-only

const old = 'walnut ferry glacier pigeon';
const fresh = 'copper lantern meadow otter';

function world(item: LoginItem | null = { accountId: 'acc-proxy', username: 'pat.parent', generation: 0 }) {
  const items = new Map<string, LoginItem>(item ? [['acc-proxy', item]] : []);
  const usernames = new Map<string, string>([['pat.parent', 'acc-proxy'], ['taken.name', 'acc-other'], ['mine.too', 'acc-proxy']]);
  const passwords = new Map<string, string>([['acc-proxy', old]]);
  const audits: AuditEvent[] = [];
  const throttle = memoryThrottleState();
  let signInFails: Error | undefined;
  let freshKind: 'tokens' | 'challenge' = 'tokens';
  let signIns = 0;
  let lookups = 0;
  let beforeSave: (() => void) | undefined;
  const deps: ProxyCredentialDeps = {
    throttle: throttle.store,
    clock: () => now,
    accounts: {
      findByUsername: async (u) => {
        lookups++;
        const accountId = usernames.get(u.toLowerCase());
        return accountId ? { accountId, patientId: '' } : undefined;
      },
    },
    logins: {
      async signIn(accountId, password) {
        signIns++;
        if (signInFails) throw signInFails;
        if (passwords.get(accountId) !== password) throw new DomainError('unauthorized', 'invalid-credentials', 'no');
        if (freshKind === 'challenge' && signIns > 1) return { kind: 'challenge', challenge: 'NEW_PASSWORD_REQUIRED', session: 's' };
        return { kind: 'tokens', accessToken: `at-${items.get(accountId)?.generation}`, idToken: 'id', refreshToken: 'rt', expiresIn: 3600 };
      },
      async setPassword(accountId, password) {
        passwords.set(accountId, password);
      },
      async signOutEverywhere() {},
    },
    proxies: {
      login: async (accountId) => (items.get(accountId) ? { ...items.get(accountId)! } : undefined),
      async saveLogin(change) {
        beforeSave?.();
        const current = items.get(change.accountId)!;
        if ((current.generation ?? 0) !== change.expectedGeneration) throw new DomainError('conflict', 'version-conflict', 'x');
        const holder = usernames.get(change.username.toLowerCase());
        if (holder && holder !== change.accountId) throw new DomainError('conflict', 'username-taken', 'x');
        if (change.release && change.release.toLowerCase() !== change.username.toLowerCase()) usernames.delete(change.release.toLowerCase());
        if (change.username) usernames.set(change.username.toLowerCase(), change.accountId);
        items.set(change.accountId, { ...current, username: change.username, generation: change.expectedGeneration + 1 });
        audits.push(change.audit);
      },
    },
  };
  return {
    deps,
    items,
    usernames,
    passwords,
    audits,
    throttle,
    failSignIn: (e: Error | undefined) => (signInFails = e),
    challengeAfter: () => (freshKind = 'challenge'),
    lookups: () => lookups,
    signIns: () => signIns,
    beforeSave: (fn: () => void) => (beforeSave = fn),
  };
}

const login = { accountId: 'acc-proxy', sourceIp: '198.51.100.7' };

describe('rule 17: a proxy-only login\'s credential change', () => {
  it('audits the login\'s change at the moment, from its address, under its login', async () => {
    const w = world();
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh });
    expect(w.audits).toEqual([
      {
        target: 'login:acc-proxy',
        at: now.toISOString(),
        actor: 'patient:acc-proxy',
        action: 'patient.credentials-changed',
        outcome: 'success',
        sourceIp: '198.51.100.7',
        detail: { passwordChanged: true, usernameChanged: false },
      },
    ]);
  });

  it('only a username change: the password stays, the name is checked but not against the password rules of the new password field', async () => {
    const w = world();
    const tokens = await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newUsername: 'robin.h' });
    expect(w.passwords.get('acc-proxy')).toBe(old);
    expect(w.items.get('acc-proxy')).toMatchObject({ username: 'robin.h', generation: 1 });
    expect(w.audits[0]!.detail).toEqual({ passwordChanged: false, usernameChanged: true });
    expect(tokens.accessToken).toBe('at-1');
  });

  it('a new username the current password contains is refused on the username field (400), nothing changed', async () => {
    const w = world();
    const err = await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newUsername: 'ferry' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect((err as DomainError).extra.errors?.map((e) => e.path)).toEqual(['body.newUsername']);
    expect(w.items.get('acc-proxy')?.generation).toBe(0);
  });

  it('a new password breaking the rules is refused on the password field', async () => {
    const w = world();
    const err = await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: 'short' }).catch((e: unknown) => e);
    expect((err as DomainError).extra.errors?.map((e) => e.path)).toEqual(['body.newPassword']);
    expect(w.passwords.get('acc-proxy')).toBe(old);
  });

  it('no change asked: the current password is not judged by today\'s rules, and every session still ends (generation bumped)', async () => {
    const w = world();
    w.passwords.set('acc-proxy', 'pat.parent1');
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: 'pat.parent1' });
    expect(w.items.get('acc-proxy')).toMatchObject({ username: 'pat.parent', generation: 1 });
    expect(w.audits[0]!.detail).toEqual({ passwordChanged: false, usernameChanged: false });
  });

  it('the same username in another case is not looked up (it is the login\'s own) and is saved as typed', async () => {
    const w = world();
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newUsername: 'Pat.Parent' });
    expect(w.lookups()).toBe(0);
    expect(w.items.get('acc-proxy')).toMatchObject({ username: 'Pat.Parent', generation: 1 });
    expect(w.audits[0]!.detail).toEqual({ passwordChanged: false, usernameChanged: true });
  });

  it('a username already held by this same login is not "taken"', async () => {
    const w = world();
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newUsername: 'mine.too' });
    expect(w.items.get('acc-proxy')).toMatchObject({ username: 'mine.too', generation: 1 });
  });

  it('an item without a generation or username is at generation 0, and nothing is released', async () => {
    const w = world({ accountId: 'acc-proxy' });
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh });
    expect(w.items.get('acc-proxy')).toMatchObject({ username: '', generation: 1 });
    expect(w.usernames.get('pat.parent')).toBe('acc-proxy');
  });

  it('a login that is not there at all is refused like a bad token, before any guess is made', async () => {
    const w = world(null);
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh })).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(w.signIns()).toBe(0);
  });

  it('a concurrent change of the item: the save is done again on the item as it is now', async () => {
    const w = world();
    let raced = false;
    w.beforeSave(() => {
      if (raced) return;
      raced = true;
      w.items.set('acc-proxy', { ...w.items.get('acc-proxy')!, generation: 5 });
    });
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh });
    expect(w.items.get('acc-proxy')).toMatchObject({ generation: 6 });
  });

  it('the item given a record of its own meanwhile: refused, nothing saved', async () => {
    const w = world();
    w.beforeSave(() => {
      w.items.set('acc-proxy', { accountId: 'acc-proxy', patientId: 'P-1', generation: 9 });
    });
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh })).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(w.audits).toEqual([]);
  });

  it('no tokens after the change (a challenge) is an error, not an answer without tokens', async () => {
    const w = world();
    w.challengeAfter();
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh })).rejects.toThrow();
  });
});

describe('rules 5 and 24: proving the current password', () => {
  it('a wrong password with no new one is one counted failure, under the login\'s username', async () => {
    const w = world();
    const err = await changeProxyLoginCredentials(w.deps, login, { currentPassword: 'not the password at all', newUsername: 'robin.h' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unauthorized', code: 'invalid-credentials' });
    // Named on the field the caller typed, not the sign-in's generic refusal.
    expect((err as DomainError).extra).toEqual({ errors: [{ path: 'body.currentPassword', message: expect.any(String) }] });
    expect(w.throttle.accounts.get(accountThrottleKey('patient', 'pat.parent'))?.failures).toBe(1);
    expect(w.signIns()).toBe(1);
  });

  it('rule 5: twelve wrong guesses at once reach the sign-in service no more often than one after another would (5), the rest 429', async () => {
    const w = world();
    const signIn = w.deps.logins.signIn;
    let reached = 0;
    w.deps.logins.signIn = async (id, p) => {
      reached++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return signIn(id, p);
    };
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () => changeProxyLoginCredentials(w.deps, login, { currentPassword: 'not the password at all' }).then(() => 'ok', (e: DomainError) => e.code)),
    );
    expect(reached).toBe(5);
    expect(outcomes.filter((o) => o === 'invalid-credentials')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'too-many-attempts')).toHaveLength(7);
  });

  it('rule 5: a wait already due is a 429 as it is, not a wrong password, and no guess reaches the service', async () => {
    const w = world();
    w.throttle.accounts.set(accountThrottleKey('patient', 'pat.parent'), { failures: 5, lastFailureAt: now.getTime() });
    const err = await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'too-many-attempts' });
    expect(w.signIns()).toBe(0);
    expect(w.passwords.get('acc-proxy')).toBe(old);
  });

  it('an item without a username changes its username (nothing to release)', async () => {
    const w = world({ accountId: 'acc-proxy', generation: 0 });
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newUsername: 'robin.h' });
    expect(w.items.get('acc-proxy')).toMatchObject({ username: 'robin.h', generation: 1 });
    expect(w.usernames.get('pat.parent')).toBe('acc-proxy');
  });

  it('an item without a username is throttled under its account id', async () => {
    const w = world({ accountId: 'acc-proxy', generation: 0 });
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: 'not the password at all' })).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(w.throttle.accounts.get(accountThrottleKey('patient', 'acc-proxy'))?.failures).toBe(1);
  });

  it('a sign-in service failure is passed on as it is, not as a wrong password, and no second guess is made', async () => {
    const w = world();
    const outage = new Error('service down');
    w.failSignIn(outage);
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh })).rejects.toBe(outage);
    expect(w.signIns()).toBe(1);
    expect(w.items.get('acc-proxy')?.generation).toBe(0);
  });

  it('the second guess (the new password) failing with an outage passes the outage on', async () => {
    const w = world();
    const outage = new Error('service down');
    const signIn = w.deps.logins.signIn;
    let n = 0;
    w.deps.logins.signIn = async (id, p) => {
      if (++n === 2) throw outage;
      return signIn(id, p);
    };
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: 'not the password at all', newPassword: fresh })).rejects.toBe(outage);
    expect(w.items.get('acc-proxy')?.generation).toBe(0);
  });
});
