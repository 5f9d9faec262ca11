/**
 * Mutation-testing rules for lambdas/domain/patient-sign-in.ts (issue 20): password sign-in
 * (rules 5, 6, 13, 18: one answer for unknown and wrong, every attempt that reached the pool
 * audited, tries reserved) and the new-password step (rules 17, 24, 27). Behaviour through the
 * exported functions on in-memory stores and a patient pool fake that checks passwords as
 * Cognito does: what the caller gets, what the pool was asked, what was stored, counted, audited.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { completeNewPassword, loginTarget, signInPatient, unknownSignInTarget, type PatientSignInDeps } from '../../../lambdas/domain/patient-sign-in.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink, CallerContext, Challenge, SignInResult } from '../../../lambdas/domain/ports.ts';
import { sha256 } from '../../../lambdas/domain/secrets.ts';
import { accountThrottleKey, type ThrottleStore } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const ip = '198.51.100.9';
const context: CallerContext = { sourceIp: ip, serverName: 'api.example.test', serverPath: '/sessions', headers: { 'user-agent': 'ua' } };
const PASSWORD = 'lantern orchard pebble violin';

let now: Date;
let mem: ReturnType<typeof memoryStore>;
let counters: ReturnType<typeof memoryThrottleState>;
let clearedWith: AuditEvent[];
let usernames: Map<string, AccountLink>;
let passwords: Map<string, string>;
let challenges: Map<string, Challenge>;
let asked: { accountId: string; context?: CallerContext }[];
let revoked: string[];
let poolAnswer: (accountId: string) => SignInResult;
let notified: string[];
let saved: { options: { claim?: string; release?: string; consumeChallenge?: string }; audit: AuditEvent }[];
let deps: PatientSignInDeps;
let minted: number;

const tokens = (): SignInResult => ({ kind: 'tokens', accessToken: `a${++minted}`, idToken: `i${minted}`, refreshToken: `r${minted}`, expiresIn: 3600 });

beforeEach(() => {
  now = new Date('2026-11-30T10:00:00.000Z');
  mem = memoryStore();
  counters = memoryThrottleState();
  clearedWith = [];
  usernames = new Map();
  passwords = new Map();
  challenges = new Map();
  asked = [];
  revoked = [];
  notified = [];
  saved = [];
  minted = 0;
  poolAnswer = () => tokens();
  const throttle: ThrottleStore = {
    ...counters.store,
    async clearAccount(key, audit) {
      await counters.store.clearAccount(key);
      if (audit) clearedWith.push(audit);
    },
  };
  deps = {
    accounts: {
      async findByUsername(name) {
        return usernames.get(name.toLowerCase());
      },
      async findByAccountId() {
        return undefined;
      },
      async saveLogin(record, expected, audit, options) {
        if (options.consumeChallenge && !challenges.delete(options.consumeChallenge)) throw new DomainError('unauthorized', 'session-used', 'used');
        const holder = options.claim ? usernames.get(options.claim.toLowerCase()) : undefined;
        if (holder && holder.accountId !== record.accountId) throw new DomainError('conflict', 'username-taken', 'taken');
        await mem.store.saveRecord(record, expected, audit);
        if (options.release) usernames.delete(options.release.toLowerCase());
        if (options.claim) usernames.set(options.claim.toLowerCase(), { accountId: record.accountId!, patientId: record.patientId });
        saved.push({ options, audit });
      },
    },
    store: mem.store,
    logins: {
      async upsert() {
        return { created: false };
      },
      async setPassword(accountId, password) {
        passwords.set(accountId, password);
      },
      async signIn(accountId, password, ctx) {
        asked.push({ accountId, ...(ctx ? { context: ctx } : {}) });
        if (passwords.get(accountId) !== password) throw new DomainError('unauthorized', 'invalid-credentials', 'pool says no');
        return poolAnswer(accountId);
      },
      async signOutEverywhere() {},
      async revokeRefreshToken(token) {
        revoked.push(token);
      },
      async setEnabled() {},
      async remove() {},
    },
    challenges: {
      async create(hash, c) {
        challenges.set(hash, c);
      },
      async get(hash) {
        return challenges.get(hash);
      },
    },
    throttle,
    clock: () => now,
    notify: async (kind) => void notified.push(kind),
  };
});

/** A record with its login `pat.smith` / PASSWORD. */
async function patient(change: Partial<StoredRecord> = {}) {
  const record: StoredRecord = { ...newRecord('P-1', now), accountId: 'acc-1', username: 'pat.smith', registration: 'NormalRegistration', linkGeneration: 4, version: 1, ...change };
  mem.docs.set('patient:P-1', { value: record, version: record.version });
  usernames.set('pat.smith', { accountId: 'acc-1', patientId: 'P-1' });
  passwords.set('acc-1', PASSWORD);
  return record;
}

const signIn = (username = 'pat.smith', password = PASSWORD) => signInPatient(deps, { username, password, sourceIp: ip, context });
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => expect.unreachable('should be refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
};
const patientKey = (name: string) => accountThrottleKey('patient', name);

describe('rule 18: a right password is audited by account, in the write that clears the reserved try', () => {
  it('tokens for an enabled record: the pool was asked for its accountId with the caller context', async () => {
    await patient();
    const answer = await signIn();
    expect(answer).toEqual({ kind: 'tokens', accessToken: 'a1', idToken: 'i1', refreshToken: 'r1', expiresIn: 3600 });
    expect(asked).toEqual([{ accountId: 'acc-1', context }]);
    expect(counters.accounts.has(patientKey('pat.smith'))).toBe(false);
    expect(mem.audit).toEqual([]);
    expect(clearedWith).toEqual([
      { target: 'patient:P-1', at: now.toISOString(), actor: 'patient:acc-1', action: 'patient.sign-in', outcome: 'success', sourceIp: ip, detail: { reason: 'tokens' } },
    ]);
    expect(revoked).toEqual([]);
  });

  it('issue 16: the try is cleared in one write, the one that carries the audit entry', async () => {
    await patient();
    const writes: (AuditEvent | undefined)[] = [];
    const clear = deps.throttle.clearAccount;
    deps.throttle.clearAccount = async (key, audit) => {
      writes.push(audit);
      return clear(key, audit);
    };
    await signIn();
    expect(writes).toEqual([expect.objectContaining({ action: 'patient.sign-in', outcome: 'success' })]);
  });

  it('a proxy-only login gets its tokens, audited under its login, with no record read', async () => {
    usernames.set('helper', { accountId: 'acc-9', patientId: '' });
    passwords.set('acc-9', PASSWORD);
    mem.store.getRecord = async () => expect.unreachable('no record is read for a proxy-only login');
    expect(await signIn('helper')).toMatchObject({ kind: 'tokens' });
    expect(clearedWith).toEqual([
      { target: loginTarget('acc-9'), at: now.toISOString(), actor: 'patient:acc-9', action: 'patient.sign-in', outcome: 'success', sourceIp: ip, detail: { reason: 'tokens' } },
    ]);
    expect(loginTarget('acc-9')).toBe('login:acc-9');
  });

  it('a proxy-only login that the pool challenges is an error, and the try is given back', async () => {
    usernames.set('helper', { accountId: 'acc-9', patientId: '' });
    passwords.set('acc-9', PASSWORD);
    poolAnswer = () => ({ kind: 'challenge', challenge: 'NEW_PASSWORD_REQUIRED', session: 's' });
    await expect(signIn('helper')).rejects.toThrow(/unexpected challenge NEW_PASSWORD_REQUIRED/);
    expect(counters.accounts.has(patientKey('helper'))).toBe(false);
    expect([...mem.audit, ...clearedWith]).toEqual([]);
  });
});

describe('rules 13 and 18: a wrong password and an unknown username get one answer, and each is audited', () => {
  it('a wrong password: 401 with the reset offer, counted, audited anonymously on the record', async () => {
    await patient();
    const err = await refusal(signIn('pat.smith', 'wrong'));
    expect([err.kind, err.code, err.extra.fields]).toEqual(['unauthorized', 'invalid-credentials', { resetAvailable: true }]);
    expect(counters.accounts.get(patientKey('pat.smith'))?.failures).toBe(1);
    expect(clearedWith).toEqual([]);
    expect(mem.audit).toEqual([
      { target: 'patient:P-1', at: now.toISOString(), actor: 'anonymous', action: 'patient.sign-in', outcome: 'failure', sourceIp: ip, detail: { reason: 'invalid-credentials' } },
    ]);
  });

  it('an unknown username still asks the pool (for a login that cannot exist), answers the same, audits under its own target', async () => {
    await patient();
    const err = await refusal(signIn('nobody', PASSWORD));
    expect([err.kind, err.code, err.extra.fields]).toEqual(['unauthorized', 'invalid-credentials', { resetAvailable: true }]);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.accountId).toMatch(/^unknown-.{16,}/);
    expect(asked[0]!.accountId).not.toContain('nobody');
    expect(mem.audit).toEqual([
      { target: unknownSignInTarget, at: now.toISOString(), actor: 'anonymous', action: 'patient.sign-in', outcome: 'failure', sourceIp: ip, detail: { reason: 'invalid-credentials' } },
    ]);
    expect(unknownSignInTarget).toBe('patient-sign-in');
    // Two unknown names never ask the pool for the same made-up login.
    await refusal(signIn('nobody', PASSWORD));
    expect(asked[1]!.accountId).not.toBe(asked[0]!.accountId);
  });

  it('a right password on a login whose record now names another account, or is gone: the same refusal', async () => {
    await patient({ accountId: 'acc-2' });
    const err = await refusal(signIn());
    expect(err.code).toBe('invalid-credentials');
    expect(mem.audit.at(-1)).toMatchObject({ target: 'patient:P-1', actor: 'anonymous', outcome: 'failure' });
    expect(counters.accounts.get(patientKey('pat.smith'))?.failures).toBe(1);
    mem.docs.delete('patient:P-1');
    expect((await refusal(signIn())).code).toBe('invalid-credentials');
  });

  it('a refusal of another kind from the pool keeps its own code; a pool failure is not a refusal', async () => {
    await patient();
    deps.logins.signIn = async () => {
      throw new DomainError('too-many-requests', 'pool-busy', 'busy');
    };
    expect((await refusal(signIn())).code).toBe('pool-busy');
    expect(mem.audit.at(-1)).toMatchObject({ outcome: 'failure', detail: { reason: 'pool-busy' } });
    deps.logins.signIn = async () => {
      throw new Error('pool down');
    };
    const before = mem.audit.length;
    await expect(signIn()).rejects.toThrow('pool down');
    expect(mem.audit).toHaveLength(before);
  });
});

describe('rules 5 and 6: a throttled attempt never reaches the pool and is not audited', () => {
  it('after five wrong passwords the sixth try waits: 429, pool not asked, nothing audited', async () => {
    await patient();
    for (let i = 0; i < 5; i++) await refusal(signIn('pat.smith', `wrong ${i}`));
    expect(mem.audit).toHaveLength(5);
    const err = await refusal(signIn());
    expect([err.kind, err.code]).toEqual(['too-many-requests', 'too-many-attempts']);
    expect(asked).toHaveLength(5);
    expect(mem.audit).toHaveLength(5);
    expect(clearedWith).toEqual([]);
  });
});

describe('rule 5: concurrent tries are reserved first', () => {
  it('concurrent passwords reach the pool no more often than sequential ones would', async () => {
    await patient();
    for (let i = 0; i < 4; i++) await refusal(signIn('pat.smith', `wrong ${i}`));
    const before = asked.length;
    const results = await Promise.allSettled(['a', 'b', 'c'].map((p) => signIn('pat.smith', `wrong ${p}`)));
    expect(asked.length - before).toBe(1);
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as DomainError).code === 'too-many-attempts')).toHaveLength(2);
  });
});

describe('rule 17: after the right password our record decides', () => {
  it('access off: 403 access-disabled, the fresh tokens revoked, audited on the record, the try cleared', async () => {
    await patient({ accessEnabled: false });
    const err = await refusal(signIn());
    expect([err.kind, err.code]).toEqual(['forbidden', 'access-disabled']);
    expect(revoked).toEqual(['r1']);
    expect(counters.accounts.has(patientKey('pat.smith'))).toBe(false);
    expect(mem.audit).toEqual([]);
    expect(clearedWith).toEqual([
      { target: 'patient:P-1', at: now.toISOString(), actor: 'patient:acc-1', action: 'patient.sign-in', outcome: 'failure', sourceIp: ip, detail: { reason: 'access-disabled' } },
    ]);
  });

  it('access off while the pool answered a challenge: nothing to revoke, still refused', async () => {
    await patient({ accessEnabled: false });
    poolAnswer = () => ({ kind: 'challenge', challenge: 'NEW_PASSWORD_REQUIRED', session: 's' });
    expect((await refusal(signIn())).code).toBe('access-disabled');
    expect(revoked).toEqual([]);
  });

  it('a temporary password opens the new-password step: tokens revoked, the step stored by hash under the generation, 10 minutes', async () => {
    await patient({ login: { mustChangePassword: true, temporaryPasswordExpiresAt: new Date(now.getTime() + 1).toISOString() } });
    const answer = await signIn();
    expect(answer).toEqual({ kind: 'challenge', challenge: 'NEW_PASSWORD_REQUIRED', session: expect.any(String) });
    if (answer.kind !== 'challenge') return;
    expect(answer.session.length).toBeGreaterThanOrEqual(32);
    expect([...challenges.entries()]).toEqual([
      [sha256(answer.session), { accountId: 'acc-1', patientId: 'P-1', expiresAt: '2026-11-30T10:10:00.000Z', generation: 4 }],
    ]);
    expect(revoked).toEqual(['r1']);
    expect(clearedWith).toEqual([expect.objectContaining({ outcome: 'success', detail: { reason: 'new-password-required' } })]);
  });

  it('a temporary password past its expiry (at the instant itself) is refused and opens no step', async () => {
    await patient({ login: { mustChangePassword: true, temporaryPasswordExpiresAt: now.toISOString() } });
    const err = await refusal(signIn());
    expect([err.kind, err.code]).toEqual(['unauthorized', 'temporary-password-expired']);
    expect(challenges.size).toBe(0);
    expect(revoked).toEqual(['r1']);
  });

  it('a forced change (no expiry) opens the step too', async () => {
    await patient({ login: { mustChangePassword: true } });
    expect((await signIn()).kind).toBe('challenge');
  });

  it('a pool challenge for a record that needs no new password is an error, the try given back, nothing audited', async () => {
    await patient();
    poolAnswer = () => ({ kind: 'challenge', challenge: 'SMS_MFA', session: 's' });
    await expect(signIn()).rejects.toThrow(/unexpected challenge SMS_MFA/);
    expect(counters.accounts.has(patientKey('pat.smith'))).toBe(false);
    expect([...mem.audit, ...clearedWith]).toEqual([]);
  });

  it('a backend failure after the right password gives the try back, even when that fails too', async () => {
    await patient({ login: { mustChangePassword: true } });
    await refusal(signIn('pat.smith', 'wrong'));
    deps.challenges.create = async () => {
      throw new Error('table down');
    };
    await expect(signIn()).rejects.toThrow('table down');
    expect(counters.accounts.has(patientKey('pat.smith'))).toBe(false);
    deps.throttle.clearAccount = async () => {
      throw new Error('throttle down');
    };
    await expect(signIn()).rejects.toThrow('table down');
  });

  it('a backend failure before the password was proved keeps the earlier failures counted', async () => {
    await patient();
    await refusal(signIn('pat.smith', 'wrong 1'));
    await refusal(signIn('pat.smith', 'wrong 2'));
    mem.store.getRecord = async () => {
      throw new Error('table down');
    };
    await expect(signIn()).rejects.toThrow('table down');
    expect(counters.accounts.get(patientKey('pat.smith'))?.failures).toBe(2);
  });
});

describe('rules 17, 24, 27: the new-password step', () => {
  /** Signs in with the temporary password and returns the step's session. */
  async function step(change: Partial<StoredRecord> = {}) {
    await patient({ login: { mustChangePassword: true, temporaryPasswordExpiresAt: '2026-12-01T00:00:00.000Z' }, email: 'pat@example.test', ...change });
    const answer = await signIn();
    if (answer.kind !== 'challenge') throw new Error('expected the step');
    return answer.session;
  }
  const complete = (session: string, newPassword = 'a quiet harbour at dawn', newUsername?: string) =>
    completeNewPassword(deps, { session, newPassword, ...(newUsername ? { newUsername } : {}), sourceIp: ip });
  const record = async () => (await mem.store.getRecord('P-1'))!;

  it('sets the password, signs in with it, clears "must change", keeps the username, audits, consumes the step, tells the practice', async () => {
    const session = await step();
    const answer = await complete(session);
    expect(answer).toMatchObject({ kind: 'tokens', refreshToken: 'r2' });
    expect(passwords.get('acc-1')).toBe('a quiet harbour at dawn');
    const after = await record();
    expect(after.login).toBeUndefined();
    expect(after.username).toBe('pat.smith');
    expect(after.version).toBe(2);
    expect(after.updatedAt).toBe(now.toISOString());
    expect(challenges.size).toBe(0);
    expect(saved).toEqual([
      {
        options: { claim: 'pat.smith', release: 'pat.smith', consumeChallenge: sha256(session) },
        audit: { target: 'patient:P-1', at: now.toISOString(), actor: 'patient:acc-1', action: 'patient.new-password', outcome: 'success', sourceIp: ip, detail: { usernameChanged: false } },
      },
    ]);
    expect(notified).toEqual(['patient-registered']);
    // The same session again: the step is over.
    expect((await refusal(complete(session))).code).toBe('session-expired');
  });

  it('a forced change (no temporary-password expiry) does not tell the practice of a registration', async () => {
    const session = await step({ login: { mustChangePassword: true } });
    await complete(session);
    expect(notified).toEqual([]);
  });

  it('a new username is claimed and the old one released; the audit says it changed', async () => {
    const session = await step();
    await complete(session, 'a quiet harbour at dawn', 'Pat.Jones');
    expect((await record()).username).toBe('Pat.Jones');
    expect(saved[0]!.options).toEqual({ claim: 'Pat.Jones', release: 'pat.smith', consumeChallenge: sha256(session) });
    expect(saved[0]!.audit.detail).toEqual({ usernameChanged: true });
    expect(usernames.get('pat.jones')).toEqual({ accountId: 'acc-1', patientId: 'P-1' });
  });

  it('a record without a username yet claims the new one and releases nothing', async () => {
    const session = await step({ username: undefined });
    usernames.delete('pat.smith');
    await complete(session, 'a quiet harbour at dawn', 'fresh.name');
    expect(saved[0]!.options).toEqual({ claim: 'fresh.name', consumeChallenge: sha256(session) });
  });

  it('a username another account holds: 409 username-taken before the password is set', async () => {
    const session = await step();
    usernames.set('taken.name', { accountId: 'acc-7', patientId: 'P-7' });
    const err = await refusal(complete(session, 'a quiet harbour at dawn', 'Taken.Name'));
    expect([err.kind, err.code]).toEqual(['conflict', 'username-taken']);
    expect(passwords.get('acc-1')).toBe(PASSWORD);
    // Its own name in another case is not "taken".
    expect((await complete(session, 'a quiet harbour at dawn', 'PAT.SMITH')).kind).toBe('tokens');
  });

  it('its own username again, in another case: no look-up in the username index (only a new name is looked up), kept as typed', async () => {
    const session = await step();
    const lookedUp: string[] = [];
    const find = deps.accounts.findByUsername;
    deps = { ...deps, accounts: { ...deps.accounts, findByUsername: async (name) => (lookedUp.push(name), find(name)) } };
    expect((await complete(session, 'a quiet harbour at dawn', 'Pat.Smith')).kind).toBe('tokens');
    expect(lookedUp).toEqual([]);
    expect((await record()).username).toBe('Pat.Smith');
    expect(saved[0]!.options).toEqual({ claim: 'Pat.Smith', release: 'pat.smith', consumeChallenge: sha256(session) });
  });

  it('rule 27: a new password that contains the username, the new username or the email local part is refused', async () => {
    const session = await step();
    for (const [pw, name] of [
      ['pat.smith likes tea', undefined],
      ['harbour newname!', 'newname'],
      ['pat@example.test rocks', undefined],
    ] as const) {
      const err = await refusal(complete(session, pw, name));
      expect([err.kind, err.code]).toEqual(['bad-request', 'validation-error']);
      expect(err.extra.errors?.[0]?.path).toBe('body.newPassword');
    }
    expect(passwords.get('acc-1')).toBe(PASSWORD);
  });

  it('a record without a username or email checks the password with neither', async () => {
    const session = await step({ username: undefined, email: undefined });
    expect((await complete(session, 'a quiet harbour at dawn')).kind).toBe('tokens');
    expect((await record()).username).toBe('');
  });

  it('the step expires at its instant; access off, another account, a finished step or a lapsed temporary password end it', async () => {
    const session = await step();
    now = new Date(now.getTime() + 10 * 60_000);
    expect((await refusal(complete(session))).code).toBe('session-expired');
    now = new Date(now.getTime() - 1);
    const base = await record();
    const ends: Partial<StoredRecord>[] = [
      { accessEnabled: false },
      { accountId: 'acc-2' },
      { login: { mustChangePassword: false } },
      { login: undefined },
      { login: { mustChangePassword: true, temporaryPasswordExpiresAt: now.toISOString() } },
    ];
    for (const change of ends) {
      mem.docs.set('patient:P-1', { value: { ...base, ...change }, version: base.version });
      const err = await refusal(complete(session));
      expect([err.kind, err.code], JSON.stringify(change)).toEqual(['unauthorized', 'session-expired']);
    }
    mem.docs.delete('patient:P-1');
    expect((await refusal(complete(session))).code).toBe('session-expired');
    mem.docs.set('patient:P-1', { value: { ...base, login: { mustChangePassword: true, temporaryPasswordExpiresAt: new Date(now.getTime() + 1).toISOString() } }, version: base.version });
    expect((await complete(session)).kind).toBe('tokens');
  });

  it('an unknown session is refused with 401 session-expired', async () => {
    await step();
    const err = await refusal(complete('not-a-session'));
    expect([err.kind, err.code]).toEqual(['unauthorized', 'session-expired']);
  });

  it('a name the account itself already holds is not "taken"', async () => {
    const session = await step();
    usernames.set('old.name', { accountId: 'acc-1', patientId: 'P-1' });
    expect((await complete(session, 'a quiet harbour at dawn', 'old.name')).kind).toBe('tokens');
    expect((await record()).username).toBe('old.name');
  });

  it('without a practice notifier the step still completes', async () => {
    const session = await step();
    delete deps.notify;
    expect((await complete(session)).kind).toBe('tokens');
  });

  it('rule 24: when the commit fails, the fresh tokens are revoked and the step can be retried', async () => {
    const session = await step();
    const saveLogin = deps.accounts.saveLogin;
    deps.accounts.saveLogin = async () => {
      throw new Error('transaction failed');
    };
    await expect(complete(session)).rejects.toThrow('transaction failed');
    expect(revoked).toEqual(['r1', 'r2']);
    // Revoking failing too still reports the commit failure.
    deps.logins.revokeRefreshToken = async () => {
      throw new Error('revoke failed');
    };
    await expect(complete(session)).rejects.toThrow('transaction failed');
    deps.accounts.saveLogin = saveLogin;
    expect((await complete(session)).kind).toBe('tokens');
  });

  it('a pool that challenges the new password is an error, and nothing is committed', async () => {
    const session = await step();
    poolAnswer = () => ({ kind: 'challenge', challenge: 'NEW_PASSWORD_REQUIRED', session: 's' });
    await expect(complete(session)).rejects.toThrow(/no tokens/);
    expect(saved).toEqual([]);
    expect(challenges.size).toBe(1);
  });
});
