/**
 * PUT /account/credentials for a proxy-only login (issue 18): the login's ACCOUNT# item holds
 * its username and generation, so the change proves the password, checks the rules, sets it at
 * Cognito and bumps that generation (rule 17) with the username swap in one save.
 */
import { describe, expect, it } from 'vitest';
import { changeProxyLoginCredentials, type ProxyCredentialDeps } from '../../../lambdas/domain/account.ts';
import type { AuditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import type { LoginItem } from '../../../lambdas/domain/proxies.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const now = new Date('2026-11-30T10:00:00.000Z');
const old = 'walnut ferry glacier pigeon';
const fresh = 'copper lantern meadow otter';

function world() {
  const items = new Map<string, LoginItem>([['acc-proxy', { accountId: 'acc-proxy', username: 'pat.parent', generation: 0 }]]);
  const usernames = new Map<string, string>([['pat.parent', 'acc-proxy'], ['taken.name', 'acc-other']]);
  const passwords = new Map<string, string>([['acc-proxy', old]]);
  const audits: AuditEvent[] = [];
  const calls: string[] = [];
  const throttle = memoryThrottleState();
  const deps: ProxyCredentialDeps = {
    throttle: throttle.store,
    clock: () => now,
    accounts: {
      findByUsername: async (u) => {
        const accountId = usernames.get(u.toLowerCase());
        return accountId ? { accountId, patientId: '' } : undefined;
      },
    },
    logins: {
      async signIn(accountId, password) {
        calls.push('signIn');
        if (passwords.get(accountId) !== password) throw new DomainError('unauthorized', 'invalid-credentials', 'no');
        return { kind: 'tokens', accessToken: `at-${items.get(accountId)?.generation}`, idToken: 'id', refreshToken: 'rt', expiresIn: 3600 };
      },
      async setPassword(accountId, password) {
        calls.push('setPassword');
        passwords.set(accountId, password);
      },
      async signOutEverywhere() {
        calls.push('signOutEverywhere');
      },
    },
    proxies: {
      login: async (accountId) => items.get(accountId),
      async saveLogin(change) {
        calls.push('saveLogin');
        const item = items.get(change.accountId)!;
        if ((item.generation ?? 0) !== change.expectedGeneration) throw new DomainError('conflict', 'version-conflict', 'x');
        const holder = usernames.get(change.username.toLowerCase());
        if (holder && holder !== change.accountId) throw new DomainError('conflict', 'username-taken', 'x');
        if (change.release && change.release.toLowerCase() !== change.username.toLowerCase()) usernames.delete(change.release.toLowerCase());
        usernames.set(change.username.toLowerCase(), change.accountId);
        items.set(change.accountId, { ...item, username: change.username, generation: change.expectedGeneration + 1 });
        audits.push(change.audit);
      },
    },
  };
  return { deps, items, usernames, passwords, audits, calls, throttle };
}

const login = { accountId: 'acc-proxy', sourceIp: '198.51.100.7' };

describe('a proxy-only login changes its own credentials', () => {
  it('rule 17: a new password is set, the login\'s generation bumped, fresh tokens minted after the commit, audited as the login', async () => {
    const w = world();
    const tokens = await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh });
    expect(w.passwords.get('acc-proxy')).toBe(fresh);
    expect(w.items.get('acc-proxy')).toMatchObject({ username: 'pat.parent', generation: 1 });
    expect(tokens.accessToken).toBe('at-1');
    expect(w.calls).toEqual(['signIn', 'setPassword', 'signOutEverywhere', 'saveLogin', 'signIn']);
    expect(w.audits).toEqual([
      expect.objectContaining({ actor: 'patient:acc-proxy', target: 'login:acc-proxy', action: 'patient.credentials-changed', detail: { passwordChanged: true, usernameChanged: false } }),
    ]);
  });

  it('a new username: claimed, the old one released, the item renamed', async () => {
    const w = world();
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newUsername: 'Robin.Helper' });
    expect(w.items.get('acc-proxy')).toMatchObject({ username: 'Robin.Helper', generation: 1 });
    expect(w.usernames.get('robin.helper')).toBe('acc-proxy');
    expect(w.usernames.has('pat.parent')).toBe(false);
  });

  it('rule 5: a wrong current password is 401 and counted; nothing changes', async () => {
    const w = world();
    const err = await changeProxyLoginCredentials(w.deps, login, { currentPassword: 'not the password at all', newPassword: fresh }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unauthorized', code: 'invalid-credentials' });
    expect([...w.throttle.accounts.values()][0]?.failures).toBe(2); // the current password, then the new one (rule 24's retry path)
    expect(w.passwords.get('acc-proxy')).toBe(old);
    expect(w.items.get('acc-proxy')?.generation).toBe(0);
    expect(w.calls).not.toContain('setPassword');
  });

  it('rule 27: a taken username is 409 only after the password is proven; with a wrong password it is 401', async () => {
    const wrong = world();
    await expect(changeProxyLoginCredentials(wrong.deps, login, { currentPassword: 'not the password at all', newUsername: 'taken.name' })).rejects.toMatchObject({ code: 'invalid-credentials' });
    const right = world();
    await expect(changeProxyLoginCredentials(right.deps, login, { currentPassword: old, newUsername: 'taken.name' })).rejects.toMatchObject({ kind: 'conflict', code: 'username-taken' });
    expect(right.calls).toEqual(['signIn']);
    expect(right.items.get('acc-proxy')?.generation).toBe(0);
  });

  it('a new password containing the username is refused (400) before anything is set', async () => {
    const w = world();
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: 'my pat.parent secret words' })).rejects.toMatchObject({ code: 'validation-error' });
    expect(w.calls).toEqual(['signIn']);
  });

  it('rule 24: a retry after the password was set but before the commit proves the new password and completes the change', async () => {
    const w = world();
    w.passwords.set('acc-proxy', fresh);
    await changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh });
    expect(w.items.get('acc-proxy')?.generation).toBe(1);
  });

  it('a login with a record of its own is not handled here (refused like a bad token)', async () => {
    const w = world();
    w.items.set('acc-proxy', { accountId: 'acc-proxy', patientId: 'P-1' });
    await expect(changeProxyLoginCredentials(w.deps, login, { currentPassword: old, newPassword: fresh })).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(w.calls).toEqual([]);
  });
});
