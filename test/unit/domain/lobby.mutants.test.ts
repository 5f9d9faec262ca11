/**
 * Mutation-testing rules for the lobby flow of lambdas/domain/lobby.ts (issue 20): what a kiosk,
 * an attacker at the kiosk or the audit trail can see of issuing, signing in, replaying a lost
 * answer and ending a session. Fakes: ./lobby-harness.ts (the adapter's rules, in memory).
 */
import { scrypt } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  cryptoSecrets,
  endLobbySession,
  keyedScheme,
  signInToLobby,
  type LobbySecrets,
  type StoredLobbyPassword,
} from '../../../lambdas/domain/lobby.ts';
import { fixedSecrets, lobbyKey, refusal, world } from './lobby-harness.ts';

// scrypt counted (the old scheme's hash, and the dummy work of a keyless sign-in): same function, only observed.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, scrypt: vi.fn(actual.scrypt) };
});
const scryptCalls = () => vi.mocked(scrypt).mock.calls.length;
beforeEach(() => {
  vi.mocked(scrypt).mockClear();
});

const ip = '203.0.113.5';
const password = 'K7MXQ-4RT9W';

/** Secrets whose hash key comes from a function (KMS in AWS), counting how often the hash needs it. */
function countedKey() {
  let calls = 0;
  const secrets: LobbySecrets = { ...fixedSecrets(), hashKey: async () => (calls++, lobbyKey) };
  return { secrets, calls: () => calls, reset: () => void (calls = 0) };
}

/** A world whose functions fetch the key through a function. */
function keyedWorld() {
  const w = world();
  const key = countedKey();
  const deps = { ...w.deps, secrets: key.secrets };
  const signIn = (masterCase: string, typed = password, idempotencyKey?: string) =>
    signInToLobby(deps, { masterCase, lobbyPassword: typed, sourceIp: ip, ...(idempotencyKey ? { idempotencyKey } : {}) });
  return { w, key, deps, signIn, issue: (patientId: string) => w.issue(patientId, key.secrets) };
}

const failures = (w: ReturnType<typeof world>) => w.mem.audit.filter((a) => a.action === 'lobby.sign-in');

describe('lobby password hash: a key from KMS (a function), and passwords stored by earlier builds', () => {
  it('a key given as a function is fetched and used: the stored hash verifies under it, a wrong password does not', async () => {
    const { w, key, issue, signIn } = keyedWorld();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await issue('P-1');
    expect(key.calls()).toBe(1);
    expect(w.lobby.passwords.get('P-1')!.scheme).toBe(keyedScheme);
    expect((await refusal(signIn('MC-1', 'K7MXQ-4RT9X'))).code).toBe('invalid-credentials');
    expect(await signIn('MC-1')).toMatchObject({ patientId: 'P-1', scope: 'intake' });
  });

  it('a keyed hash and an scrypt hash stored by an earlier build still verify (fixed vectors: the hash never silently changes)', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.addRecord('P-2', { masterCase: 'MC-2' });
    const old = (patientId: string, passwordHash: string, scheme?: typeof keyedScheme): StoredLobbyPassword => ({
      patientId,
      salt: 'c2FsdHNhbHRzYWx0c2FsdA',
      passwordHash,
      ...(scheme ? { scheme } : {}),
      createdAt: '2026-11-21T09:59:00.000Z',
      createdBy: 'frontdesk',
      expiresAt: '2026-11-21T11:00:00.000Z',
      used: false,
      generation: 0,
    });
    w.lobby.passwords.set('P-1', old('P-1', 'rZ_Wz-Xs9mvblvSBTSEToM6klknuDR2Vf6JqTKB3lr4', keyedScheme));
    w.lobby.passwords.set('P-2', old('P-2', 'x9k4XM2hfbLqh1mV90r9rSRZBzM5EM7-Jvc_3NgNY2s'));
    expect(await w.signIn('MC-1', password)).toMatchObject({ patientId: 'P-1' });
    expect(await w.signIn('MC-2', 'k7mxq4rt9w')).toMatchObject({ patientId: 'P-2' });
  });

  it('a stored hash of another length (a damaged row) is a plain refusal, never a crash (a 500 would tell the kiosk something)', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    w.lobby.passwords.get('P-1')!.passwordHash = 'c2hvcnQ';
    expect((await refusal(w.signIn('MC-1', password))).code).toBe('invalid-credentials');
  });

  it('the CSPRNG salt is 16 bytes, base64url', () => {
    const salts = new Set([cryptoSecrets.salt(), cryptoSecrets.salt()]);
    expect(salts.size).toBe(2);
    for (const s of salts) {
      expect(s).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(s, 'base64url')).toHaveLength(16);
    }
  });
});

describe('rule 5 (one refusal): every sign-in does the same hashing, whether or not the case number names a password', () => {
  it('keyed: an unknown case number, a record without a password and a wrong password each need the key once, and no scrypt', async () => {
    const { w, key, issue, signIn } = keyedWorld();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.addRecord('P-2', { masterCase: 'MC-1' });
    await w.addRecord('P-3', { masterCase: 'MC-3' });
    await issue('P-1');
    for (const [masterCase, typed] of [['MC-404', password], ['MC-3', password], ['MC-1', 'WRONG-WRONG'], ['MC-1', password]] as const) {
      key.reset();
      await signIn(masterCase, typed).catch(() => undefined);
      expect(key.calls(), masterCase).toBe(1);
      expect(scryptCalls(), masterCase).toBe(0);
    }
  });

  it('keyless: an unknown case number costs one scrypt, like a password from before', async () => {
    const w = world();
    const { hashKey: _none, ...keyless } = fixedSecrets();
    const deps = { ...w.deps, secrets: keyless };
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1', keyless);
    vi.mocked(scrypt).mockClear();
    expect((await refusal(signInToLobby(deps, { masterCase: 'MC-404', lobbyPassword: password, sourceIp: ip }))).code).toBe('invalid-credentials');
    expect(scryptCalls()).toBe(1);
    vi.mocked(scrypt).mockClear();
    expect(await signInToLobby(deps, { masterCase: 'MC-1', lobbyPassword: password, sourceIp: ip })).toMatchObject({ patientId: 'P-1' });
    expect(scryptCalls()).toBe(1);
  });

  it('a record whose masterCase is its own patientId is one candidate: it signs in, with one check', async () => {
    const { w, key, issue, signIn } = keyedWorld();
    await w.addRecord('MC-7', { masterCase: 'mc-7' });
    await issue('MC-7');
    key.reset();
    expect(await signIn('MC-7')).toMatchObject({ patientId: 'MC-7' });
    expect(key.calls()).toBe(1);
  });

  it('a record with no lobby password is refused (wrong-password in the audit), never a crash', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    expect((await refusal(w.signIn('MC-1', password))).code).toBe('invalid-credentials');
    expect(failures(w).at(-1)).toMatchObject({ target: 'patient:P-1', outcome: 'failure', detail: { reason: 'wrong-password' } });
  });
});

describe('which records a case number names', () => {
  it(`at most 5 records per case number: a password on the 6th is never compared`, async () => {
    const w = world();
    for (const n of [1, 2, 3, 4, 5, 6]) await w.addRecord(`P-${n}`, { masterCase: 'MC-1' });
    await w.issue('P-6');
    expect((await refusal(w.signIn('MC-1', password))).code).toBe('invalid-credentials');
    await w.issue('P-5');
    expect(await w.signIn('MC-1', password)).toMatchObject({ patientId: 'P-5' });
  });

  it('the record whose patientId is the case number counts only among those 5 when it has that masterCase too', async () => {
    const w = world();
    for (const n of [1, 2, 3, 4, 5]) await w.addRecord(`P-${n}`, { masterCase: 'MC-1' });
    await w.addRecord('MC-1', { masterCase: 'MC-1' });
    await w.issue('MC-1');
    expect((await refusal(w.signIn('MC-1', password))).code).toBe('invalid-credentials');
  });

  it('an index that lags (a record whose masterCase changed, lost it, or is gone) names nothing: no-match, never a crash', async () => {
    const w = world();
    await w.addRecord('P-2', { masterCase: 'MC-1' });
    await w.addRecord('P-3', { masterCase: 'MC-1' });
    await w.issue('P-2');
    await w.issue('P-3');
    await w.edit('P-2', { masterCase: 'MC-9' });
    await w.edit('P-3', { masterCase: undefined });
    w.lobby.store.patientIdsByMasterCase = async () => ['P-2', 'P-3', 'P-GONE'];
    expect((await refusal(w.signIn('MC-1', password))).code).toBe('invalid-credentials');
    expect(failures(w).at(-1)).toMatchObject({ target: 'lobby', detail: { reason: 'no-match' } });
    expect(await w.signIn('MC-9', password)).toMatchObject({ patientId: 'P-2' });
  });
});

describe('issuing (staff): what is refused, audited and cleared', () => {
  it('refuses a disabled record with 409 access-disabled', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1', accessEnabled: false });
    const err = await refusal(w.issue('P-1'));
    expect([err.kind, err.code]).toEqual(['conflict', 'access-disabled']);
    expect(w.lobby.passwords.size).toBe(0);
  });

  it('rule 18: the issue is audited with its minutes and expiry, and no password', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    const { expiresAt } = await w.issue('P-1');
    expect(w.lobby.audit.at(-1)).toMatchObject({ action: 'lobby-password.issued', actor: 'frontdesk', target: 'patient:P-1', detail: { lobbyMinutes: 60, expiresAt } });
    expect(w.lobby.audit.at(-1)!.detail).toEqual({ lobbyMinutes: 60, expiresAt });
  });

  it('rule 5: a case number held off by the sign-in throttle signs in at once with the password staff issue next', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    for (let i = 0; i < 5; i++) await refusal(w.signIn('MC-1', 'WRONG-WRONG', `198.51.100.${i}`));
    expect((await refusal(w.signIn('MC-1', password))).kind).toBe('too-many-requests');
    await w.issue('P-1');
    expect(await w.signIn('MC-1', password)).toMatchObject({ patientId: 'P-1' });
  });
});

describe('rule 18: sign-in outcomes in the audit trail', () => {
  it('a success is audited as a session for the patient, from the kiosk address', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    await w.signIn('MC-1', password);
    expect(w.lobby.audit.at(-1)).toEqual({
      action: 'lobby.sign-in', actor: 'lobby', target: 'patient:P-1', sourceIp: ip, outcome: 'success', at: '2026-11-21T10:00:00.000Z', detail: { scope: 'intake', reason: 'session' },
    });
  });

  it('every refusal is the same 401 invalid-credentials with words for the kiosk, whatever the reason', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const unknown = await refusal(w.signIn('MC-404', password));
    const wrong = await refusal(w.signIn('MC-1', 'WRONG-WRONG'));
    for (const err of [unknown, wrong]) {
      expect([err.kind, err.code]).toEqual(['unauthorized', 'invalid-credentials']);
      expect(err.message).toMatch(/lobby password/);
    }
    expect(unknown.message).toBe(wrong.message);
  });

  it('rule 25: a sign-in that loses the race to another kiosk is refused and audited as used-concurrently', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const redeem = w.lobby.store.redeem;
    w.lobby.store.redeem = async (...args) => {
      w.lobby.passwords.get('P-1')!.used = true; // the other kiosk's redeem landed first
      return redeem(...args);
    };
    expect((await refusal(w.signIn('MC-1', password))).code).toBe('invalid-credentials');
    expect(failures(w).at(-1)).toMatchObject({ target: 'patient:P-1', outcome: 'failure', detail: { scope: 'intake', reason: 'used-concurrently' } });
  });

  it('a backend failure is a 500 (the error passes through), not an audited refusal', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    w.lobby.store.redeem = async () => {
      throw new Error('DynamoDB unavailable');
    };
    await expect(w.signIn('MC-1', password)).rejects.toThrow('DynamoDB unavailable');
    expect(failures(w)).toEqual([]);
  });
});

describe('issue 13 item 14: a retry of a lost answer replays only its own session', () => {
  async function signedIn(idempotencyKey?: string) {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const withKey = (key?: string) => signInToLobby(w.deps, { masterCase: 'MC-1', lobbyPassword: password, sourceIp: ip, ...(key ? { idempotencyKey: key } : {}) });
    const first = await withKey(idempotencyKey);
    const session = () => [...w.lobby.sessions.values()][0]!;
    return { w, first, withKey, session };
  }
  const key = 'kiosk-7f3a9c1e-retry-key';

  it('a sign-in made without a key is not replayed for a retry that brings one: refused as used', async () => {
    const { w, withKey } = await signedIn();
    expect((await refusal(withKey(key))).code).toBe('invalid-credentials');
    expect(failures(w).at(-1)).toMatchObject({ target: 'patient:P-1', detail: { reason: 'used' } });
  });

  it('a retry with another key is refused as used', async () => {
    const { w, withKey } = await signedIn(key);
    expect((await refusal(withKey('another-key-entirely-000'))).code).toBe('invalid-credentials');
    expect(failures(w).at(-1)).toMatchObject({ detail: { reason: 'used' } });
  });

  it('a session row that names another patient is never replayed (defence in depth)', async () => {
    const { withKey, session } = await signedIn(key);
    session().patientId = 'P-2';
    expect((await refusal(withKey(key))).code).toBe('invalid-credentials');
  });

  it('a session that has ended by its own expiry is not replayed, from its very ms, even while the password row has not', async () => {
    const { w, withKey, session } = await signedIn(key);
    session().expiresAt = '2026-11-21T10:00:00.001Z';
    w.advance(1);
    expect((await refusal(withKey(key))).code).toBe('invalid-credentials');
  });

  it('rule 25: two retries at once give one session; the other is refused as used-concurrently', async () => {
    const { w, withKey } = await signedIn(key);
    const replay = w.lobby.store.replaySession;
    let first = true;
    w.lobby.store.replaySession = async (pw, previous, next, now, event) => {
      if (first) {
        first = false;
        await replay(pw, previous, { ...next, tokenHash: 'other-retry-token-hash' }, now, event); // the other retry landed first
      }
      return replay(pw, previous, next, now, event);
    };
    expect((await refusal(withKey(key))).code).toBe('invalid-credentials');
    expect(failures(w).at(-1)).toMatchObject({ detail: { reason: 'used-concurrently' } });
    expect(w.lobby.sessions.size).toBe(1);
  });
});

describe('End and the token check', () => {
  it('rule 18: End is audited with the kiosk as actor, its address and the intake scope', async () => {
    const w = world();
    await w.addRecord('P-1', { masterCase: 'MC-1' });
    await w.issue('P-1');
    const { lobbyToken } = await w.signIn('MC-1', password);
    await endLobbySession(w.deps, (await w.check(lobbyToken))!, '198.51.100.9');
    expect(w.lobby.audit.at(-1)).toEqual({
      action: 'lobby.session-ended', actor: 'lobby', sourceIp: '198.51.100.9', target: 'patient:P-1', outcome: 'success', at: '2026-11-21T10:00:00.000Z', detail: { scope: 'intake' },
    });
  });

  it('a token of the wrong shape is refused without reading the table', async () => {
    const w = world();
    let reads = 0;
    const getSession = w.lobby.store.getSession;
    w.lobby.store.getSession = async (hash) => (reads++, getSession(hash));
    for (const t of ['', 'short', 'x'.repeat(44), `${'A'.repeat(42)}=`]) expect(await w.check(t)).toBeUndefined();
    expect(reads).toBe(0);
    await w.check('A'.repeat(43));
    expect(reads).toBe(1);
  });
});
