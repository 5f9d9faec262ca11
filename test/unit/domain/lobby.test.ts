import { describe, expect, it } from 'vitest';
import {
  endLobbySession,
  cryptoSecrets,
  hashLobbyPassword,
  hashLobbyToken,
  keyedLobbyHash,
  keyedScheme,
  lobbyAlphabet,
  normaliseLobbyPassword,
  signInToLobby,
} from '../../../lambdas/domain/lobby.ts';
import { throttleKeys } from '../../../lambdas/domain/sign-in-throttle.ts';
import { fixedSecrets, lobbyKey, refusal, world } from './lobby-harness.ts';

// ------------------------------------------------------------------ tests

describe('lobby password: generation', () => {
  it('makes 10 characters from the alphabet without look-alikes, grouped XXXXX-XXXXX, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = cryptoSecrets.lobbyPassword();
      expect(p).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    expect(lobbyAlphabet).not.toMatch(/[01OIL]/);
    expect(lobbyAlphabet).toHaveLength(31);
  });

  it('makes session tokens of 256 bits, base64url', () => {
    const t = cryptoSecrets.sessionToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
  });

  it('normalises what the patient typed: any case, with or without the dash or spaces', () => {
    expect(normaliseLobbyPassword('k7mxq-4rt9w')).toBe('K7MXQ4RT9W');
    expect(normaliseLobbyPassword(' K7MXQ 4RT9W ')).toBe('K7MXQ4RT9W');
  });
});

describe('lobby password: issuing (staff)', () => {
  it('works for a patient with no login, expires after settings.lobbyMinutes, stores and audits no password', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.setLobbyMinutes(30);
    const issued = await w.issue('P-1');
    expect(issued).toEqual({ lobbyPassword: 'K7MXQ-4RT9W', expiresAt: '2026-11-21T10:30:00.000Z', masterCase: 'MC-1' });
    const stored = w.lobby.passwords.get('P-1')!;
    expect(stored).toMatchObject({ patientId: 'P-1', used: false, createdBy: 'frontdesk', expiresAt: '2026-11-21T10:30:00.000Z' });
    expect(stored.passwordHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(stored)).not.toMatch(/K7MXQ|4RT9W/i);
    expect(w.lobby.audit).toEqual([
      expect.objectContaining({ target: 'patient:P-1', actor: 'frontdesk', action: 'lobby-password.issued', outcome: 'success', sourceIp: '10.0.0.1' }),
    ]);
    expect(JSON.stringify(w.lobby.audit)).not.toMatch(/K7MXQ|4RT9W/i);
  });

  it('uses the default of 60 minutes and names the patientId as the case number where the record has no masterCase', async () => {
    const w = world();
    await w.addRecord('P-2');
    expect(await w.issue('P-2')).toMatchObject({ expiresAt: '2026-11-21T11:00:00.000Z', masterCase: 'P-2' });
  });

  it('refuses without a record (404) and while access is disabled (409), storing nothing', async () => {
    const w = world();
    expect((await refusal(w.issue('P-none'))).kind).toBe('not-found');
    await w.addRecord('P-off', { accessEnabled: false });
    expect((await refusal(w.issue('P-off'))).code).toBe('access-disabled');
    expect(w.lobby.passwords.size).toBe(0);
  });

  it('a new lobby password replaces the earlier one: the old one stops working', async () => {
    const w = world();
    await w.addRecord('P-3', { masterCase: 'MC-3' });
    await w.issue('P-3', fixedSecrets('AAAAA-BBBBB'));
    await w.issue('P-3', fixedSecrets('CCCCC-DDDDD'));
    expect((await refusal(w.signIn('MC-3', 'AAAAA-BBBBB'))).code).toBe('invalid-credentials');
    expect(await w.signIn('MC-3', 'CCCCC-DDDDD')).toMatchObject({ patientId: 'P-3' });
  });

  it("clears the case number's lobby guessing counter (the staff action of rule 5)", async () => {
    const w = world();
    await w.addRecord('P-4', { masterCase: 'MC-4' });
    const key = throttleKeys('lobby', 'MC-4', 'x', new Date()).accountKey;
    w.accounts.set(key, { failures: 100, lastFailureAt: Date.parse('2026-11-21T09:00:00Z') });
    await w.issue('P-4');
    expect(w.accounts.has(key)).toBe(false);
  });
});

describe('lobby sign-in', () => {
  it('gives an intake token for the masterCase (any case) and the password typed without the dash in lower case', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const session = await w.signIn('mc-1', 'k7mxq4rt9w');
    expect(session).toEqual({ lobbyToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAt: '2026-11-21T11:00:00.000Z', scope: 'intake', patientId: 'P-1' });
    // The token is stored only as its hash.
    expect(w.lobby.sessions.has(hashLobbyToken(session.lobbyToken))).toBe(true);
    expect(JSON.stringify([...w.lobby.sessions.values()])).not.toContain(session.lobbyToken);
    expect(w.lobby.audit.at(-1)).toMatchObject({ action: 'lobby.sign-in', outcome: 'success', target: 'patient:P-1', sourceIp: '203.0.113.5' });
  });

  it('takes the patientId where the record has no masterCase, and only there', async () => {
    const w = world();
    await w.addRecord('P-5');
    await w.addRecord('P-6', { masterCase: 'MC-6' });
    await w.issue('P-5');
    await w.issue('P-6');
    expect(await w.signIn('P-5', 'K7MXQ-4RT9W')).toMatchObject({ patientId: 'P-5' });
    expect((await refusal(w.signIn('P-6', 'K7MXQ-4RT9W'))).code).toBe('invalid-credentials');
  });

  it('works for exactly one session: the second use is refused like a wrong password', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    await w.signIn('MC-1', 'K7MXQ-4RT9W');
    const again = await refusal(w.signIn('MC-1', 'K7MXQ-4RT9W'));
    const wrong = await refusal(w.signIn('MC-1', 'WRONG-WRONG'));
    const unknown = await refusal(w.signIn('MC-nobody', 'K7MXQ-4RT9W'));
    for (const e of [again, wrong, unknown]) expect([e.kind, e.code, e.message]).toEqual([wrong.kind, wrong.code, wrong.message]);
    expect(again.code).toBe('invalid-credentials');
  });

  it('rule 25: 20 concurrent sign-ins with the right password give exactly one session', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => w.signIn('MC-1', 'K7MXQ-4RT9W')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(w.lobby.sessions.size).toBe(1);
  });

  it('refuses an unused password once it has expired', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    w.advance(60 * 60_000);
    expect((await refusal(w.signIn('MC-1', 'K7MXQ-4RT9W'))).code).toBe('invalid-credentials');
    expect(w.mem.audit.at(-1)).toMatchObject({ action: 'lobby.sign-in', outcome: 'failure', detail: { reason: 'expired' } });
  });

  it('rule 17: refuses while access is off, and a password issued before access off stays dead once it is on again (same instant)', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    await w.staffEdit('P-1', { accessEnabled: false });
    expect((await refusal(w.signIn('MC-1', 'K7MXQ-4RT9W'))).code).toBe('invalid-credentials');
    // Re-enabled in the very same millisecond: the password from before stays dead.
    await w.staffEdit('P-1', { accessEnabled: true });
    expect((await refusal(w.signIn('MC-1', 'K7MXQ-4RT9W'))).code).toBe('invalid-credentials');
    expect(w.mem.audit.at(-1)).toMatchObject({ detail: { reason: 'revoked' } });
    expect(w.lobby.sessions.size).toBe(0);
    // A password issued after it works.
    await w.issue('P-1');
    expect((await w.signIn('MC-1', 'K7MXQ-4RT9W')).scope).toBe('intake');
  });

  it('rule 17: a password issued before a revoke, an email change or a credential change is refused, in the same second', async () => {
    for (const bump of ['revoke', 'email', 'credentials'] as const) {
      const w = world();
      await w.addRecord('P-1', { masterCase: 'MC-1', email: 'old@example.test' });
      await w.issue('P-1');
      if (bump === 'revoke') {
        await w.revoke('P-1');
        await w.staffEdit('P-1', { accessEnabled: true });
      }
      if (bump === 'email') await w.staffEdit('P-1', { email: 'new@example.test' });
      if (bump === 'credentials') await w.revoke('P-1', true);
      expect((await refusal(w.signIn('MC-1', 'K7MXQ-4RT9W'))).code, bump).toBe('invalid-credentials');
      expect(w.mem.audit.at(-1)).toMatchObject({ detail: { reason: 'revoked' } });
    }
  });

  it('rules 5 and 6: after 5 failures on a case number the next attempt gets 429 with Retry-After, even with the right password', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    for (let i = 0; i < 5; i++) await refusal(w.signIn('MC-1', `WRONG-${i}AAAA`, `198.51.100.${i}`));
    const blocked = await refusal(w.signIn('MC-1', 'K7MXQ-4RT9W'));
    expect(blocked.kind).toBe('too-many-requests');
    expect(blocked.extra.retryAfterSeconds).toBeGreaterThan(0);
    expect(w.lobby.sessions.size).toBe(0);
  });

  it('rule 18: audits failures with target, source and reason, never the password or the typed case number of an unknown patient', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    await refusal(w.signIn('MC-1', 'GUESS-GUESS'));
    await refusal(w.signIn('SECRET-CASE-99', 'GUESS-GUESS'));
    const failures = w.mem.audit.filter((a) => a.action === 'lobby.sign-in');
    expect(failures).toEqual([
      expect.objectContaining({ target: 'patient:P-1', actor: 'lobby', outcome: 'failure', sourceIp: '203.0.113.5', detail: { scope: 'intake', reason: 'wrong-password' } }),
      expect.objectContaining({ target: 'lobby', outcome: 'failure', detail: { scope: 'intake', reason: 'no-match' } }),
    ]);
    expect(JSON.stringify(failures)).not.toMatch(/GUESS|SECRET-CASE-99/);
  });
});

describe('lobby token check', () => {
  async function signedIn() {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const { lobbyToken } = await w.signIn('MC-1', 'K7MXQ-4RT9W');
    return { w, lobbyToken };
  }

  it('opens the intake scope of its patient until it expires', async () => {
    const { w, lobbyToken } = await signedIn();
    expect(await w.check(lobbyToken)).toEqual({ patientId: 'P-1', scope: 'intake', expiresAt: '2026-11-21T11:00:00.000Z', tokenHash: hashLobbyToken(lobbyToken) });
    w.advance(60 * 60_000 - 1);
    expect(await w.check(lobbyToken)).toBeDefined();
    w.advance(1);
    expect(await w.check(lobbyToken)).toBeUndefined();
  });

  it('dies when staff disable access', async () => {
    const { w, lobbyToken } = await signedIn();
    await w.edit('P-1', { accessEnabled: false });
    expect(await w.check(lobbyToken)).toBeUndefined();
  });

  it('rule 17: dies at a revoke in the same millisecond it began, and stays dead once access is on again', async () => {
    const { w, lobbyToken } = await signedIn();
    await w.revoke('P-1');
    expect(await w.check(lobbyToken)).toBeUndefined();
    await w.staffEdit('P-1', { accessEnabled: true });
    expect(await w.check(lobbyToken)).toBeUndefined();
  });

  it('rule 17: dies at access off and stays dead once access is on again, in the same second', async () => {
    const { w, lobbyToken } = await signedIn();
    await w.staffEdit('P-1', { accessEnabled: false });
    await w.staffEdit('P-1', { accessEnabled: true });
    expect(await w.check(lobbyToken)).toBeUndefined();
  });

  it('rule 17: dies at an email change or a credential change, access staying on (any bump of the generation)', async () => {
    for (const bump of ['email', 'credentials'] as const) {
      const { w, lobbyToken } = await signedIn();
      if (bump === 'email') await w.staffEdit('P-1', { email: 'new@example.test' });
      else await w.revoke('P-1', true);
      expect(await w.check(lobbyToken), bump).toBeUndefined();
    }
  });

  it('rule 17: an edit that bumps nothing (a comment) leaves the session alive', async () => {
    const { w, lobbyToken } = await signedIn();
    await w.staffEdit('P-1', { comment: 'called back' });
    expect(await w.check(lobbyToken)).toBeDefined();
  });

  it('rule 17: a session opened after a revoke and re-enable works, in the same millisecond', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.revoke('P-1');
    await w.staffEdit('P-1', { accessEnabled: true });
    await w.issue('P-1');
    const { lobbyToken } = await w.signIn('MC-1', 'K7MXQ-4RT9W');
    expect(await w.check(lobbyToken)).toBeDefined();
  });

  it('rule 17: a session that carries another generation, or none (from before the rule), is refused', async () => {
    const { w, lobbyToken } = await signedIn();
    const stored = w.lobby.sessions.get(hashLobbyToken(lobbyToken))!;
    expect(stored.generation).toBe(0);
    w.lobby.sessions.set(stored.tokenHash, { ...stored, generation: 1 });
    expect(await w.check(lobbyToken)).toBeUndefined();
    const { generation: _g, ...none } = stored;
    w.lobby.sessions.set(stored.tokenHash, none);
    expect(await w.check(lobbyToken)).toBeUndefined();
    w.lobby.sessions.set(stored.tokenHash, stored);
    expect(await w.check(lobbyToken)).toBeDefined();
  });

  it('refuses unknown, malformed and look-alike tokens', async () => {
    const { w, lobbyToken } = await signedIn();
    expect(await w.check(`${lobbyToken.slice(0, -1)}${lobbyToken.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await w.check('short')).toBeUndefined();
    expect(await w.check(hashLobbyToken(lobbyToken))).toBeUndefined();
  });
});

describe('issue 13 item 14: a lost answer does not burn the lobby password; End ends the session on the server', () => {
  async function signedIn(key = 'kiosk-7f3a9c1e-retry-key') {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const withKey = (password: string, idempotencyKey?: string) =>
      signInToLobby(w.deps, { masterCase: 'MC-1', lobbyPassword: password, sourceIp: '203.0.113.5', ...(idempotencyKey ? { idempotencyKey } : {}) });
    const first = await withKey('K7MXQ-4RT9W', key);
    return { w, first, withKey, key };
  }

  it('a retry with the same idempotency key and password gets the session again (new token, same expiry); the undelivered token dies', async () => {
    const { w, first, withKey, key } = await signedIn();
    const again = await withKey('k7mxq4rt9w', key);
    expect(again).toEqual({ ...first, lobbyToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(again.lobbyToken).not.toBe(first.lobbyToken);
    expect(await w.check(first.lobbyToken)).toBeUndefined();
    expect(await w.check(again.lobbyToken)).toMatchObject({ patientId: 'P-1' });
    expect(w.lobby.sessions.size).toBe(1);
    // The key is kept only as a hash, beside the session.
    expect(JSON.stringify([...w.lobby.sessions.values()])).not.toContain(key);
    expect(w.lobby.audit.at(-1)).toMatchObject({ action: 'lobby.sign-in', outcome: 'success', detail: { reason: 'session-replayed' } });
  });

  it('without the key, with another key, or with another password, the used password is the one refusal', async () => {
    const { withKey, key } = await signedIn();
    expect((await refusal(withKey('K7MXQ-4RT9W'))).code).toBe('invalid-credentials');
    expect((await refusal(withKey('K7MXQ-4RT9W', 'another-key-entirely-000'))).code).toBe('invalid-credentials');
    expect((await refusal(withKey('WRONG-WRONG', key))).code).toBe('invalid-credentials');
  });

  it('End deletes the session (its token opens nothing), is audited, and a repeat is harmless; a retry after End is refused', async () => {
    const { w, first, withKey, key } = await signedIn();
    const grant = (await w.check(first.lobbyToken))!;
    await endLobbySession(w.deps, grant, '203.0.113.5');
    expect(await w.check(first.lobbyToken)).toBeUndefined();
    expect(w.lobby.audit.at(-1)).toMatchObject({ action: 'lobby.session-ended', target: 'patient:P-1' });
    await endLobbySession(w.deps, grant, '203.0.113.5');
    expect((await refusal(withKey('K7MXQ-4RT9W', key))).code).toBe('invalid-credentials');
  });

  it('a retry after the password expired, or after access was revoked, is refused', async () => {
    const { w, withKey, key } = await signedIn();
    await w.edit('P-1', { accessEnabled: false });
    expect((await refusal(withKey('K7MXQ-4RT9W', key))).code).toBe('invalid-credentials');
    const other = await signedIn();
    other.w.advance(60 * 60_000 + 1);
    expect((await refusal(other.withKey('K7MXQ-4RT9W', other.key))).code).toBe('invalid-credentials');
  });
});

describe('lobby password hash (issue 16 item 4): a fast keyed hash, the old scrypt scheme still verifies', () => {
  it('stores HMAC-SHA-256 under the key, never the password, and the same password on two records hashes differently', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.addRecord('P-2', { masterCase: 'MC-2' });
    await w.issue('P-1');
    await w.issue('P-2', { ...fixedSecrets(), salt: () => 'b3RoZXJzYWx0b3RoZXJzYQ' });
    const stored = w.lobby.passwords.get('P-1')!;
    expect(stored.scheme).toBe(keyedScheme);
    expect(stored.passwordHash).toBe(keyedLobbyHash(lobbyKey, 'K7MXQ4RT9W', stored.salt));
    expect(JSON.stringify(stored)).not.toMatch(/K7MXQ/i);
    expect(w.lobby.passwords.get('P-2')!.passwordHash).not.toBe(stored.passwordHash);
    // Under another key the same password and salt give another hash: the table alone tests no guess.
    expect(keyedLobbyHash(Buffer.alloc(32, 8), 'K7MXQ4RT9W', stored.salt)).not.toBe(stored.passwordHash);
  });

  it('refuses a wrong lobby password with the right case number, and one that differs only in its last character', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    expect((await refusal(w.signIn('MC-1', 'K7MXQ-4RT9X'))).code).toBe('invalid-credentials');
    expect((await refusal(w.signIn('MC-1', 'ZZZZZ-ZZZZZ'))).code).toBe('invalid-credentials');
    expect(await w.signIn('MC-1', 'K7MXQ-4RT9W')).toMatchObject({ patientId: 'P-1' });
  });

  it('a keyed password cannot be checked without the key (a function with no key refuses, never matches)', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const { hashKey: _none, ...keyless } = fixedSecrets();
    const err = await refusal(signInToLobby({ ...w.deps, secrets: keyless }, { masterCase: 'MC-1', lobbyPassword: 'K7MXQ-4RT9W', sourceIp: '203.0.113.5' }));
    expect(err.code).toBe('invalid-credentials');
  });

  it('a password issued before (scrypt, no scheme) still verifies until it expires, and a wrong one is still refused', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    const { hashKey: _none, ...keyless } = fixedSecrets();
    await w.issue('P-1', keyless);
    const stored = w.lobby.passwords.get('P-1')!;
    expect(stored.scheme).toBeUndefined();
    expect(stored.passwordHash).toBe(await hashLobbyPassword('K7MXQ4RT9W', stored.salt));
    // The functions now hold the key (w.deps): the old scheme is still checked with scrypt.
    expect((await refusal(w.signIn('MC-1', 'K7MXQ-4RT9X'))).code).toBe('invalid-credentials');
    expect(await w.signIn('MC-1', 'k7mxq4rt9w')).toMatchObject({ patientId: 'P-1' });
  });

  it('compares in constant time: the keyed hash is checked with timingSafeEqual on equal-length digests', async () => {
    // What sameHash relies on: every keyed hash has the same length whatever the password typed.
    const lengths = new Set(['', 'A', 'K7MXQ4RT9W', 'x'.repeat(500)].map((typed) => Buffer.from(keyedLobbyHash(lobbyKey, typed, 'salt'), 'base64url').length));
    expect([...lengths]).toEqual([32]);
  });
});
