/**
 * Mutation-testing rules for lambdas/domain/staff-sign-in.ts (issue 20): staff sign-in with TOTP
 * (rule 30), its guessing limits (rules 5 and 6) and its audit trail. Behaviour through the
 * exported functions, on a staff pool fake that checks passwords, sessions and codes as Cognito
 * does, the in-memory throttle and record store: what the caller gets, what the pool was asked,
 * what was counted and what was audited.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import type { SignInResult, StaffChallengeStep } from '../../../lambdas/domain/ports.ts';
import { accountThrottleKey, type ThrottleStore } from '../../../lambdas/domain/sign-in-throttle.ts';
import {
  answerStaffChallenge,
  otpauthUri,
  signInStaff,
  typedUsernameHash,
  USED_CODE_MS,
  SEALED_SESSION_MS,
  type StaffSignInDeps,
} from '../../../lambdas/domain/staff-sign-in.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';
import { enabledStaffRecord } from '../../support/staff-records.ts';

const context = { sourceIp: '203.0.113.7', serverName: 'api.example.test', serverPath: '/staff/sessions', headers: {} };
const RIGHT_CODE = '123456';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const accessFor = (sub: string) => `${b64({ alg: 'none' })}.${b64({ sub })}.sig`;
const keyFor = (purpose: string) => createHash('sha256').update(`client-secret:${purpose}`).digest();

type Next = 'tokens' | 'NEW_PASSWORD_REQUIRED' | 'MFA_SETUP' | 'SOFTWARE_TOKEN_MFA' | 'SMS_MFA';
interface PoolUser {
  name: string;
  password: string;
  sub: string;
  /** What a right password leads to. */
  next: Next;
  /** Whether the pool names the user in its challenge (USER_ID_FOR_SRP). */
  namesUser?: boolean;
}

/** The staff pool as the domain sees it: password check, one session per step, TOTP codes. */
function fakePool() {
  const users = new Map<string, PoolUser>();
  const sessions = new Map<string, { user: string; step: string }>();
  const responded: { username: string; step: StaffChallengeStep }[] = [];
  let n = 0;
  let failSignIn: Error | undefined;
  const tokens = (u: PoolUser): SignInResult => ({ kind: 'tokens', accessToken: accessFor(u.sub), idToken: 'id', refreshToken: 'refresh', expiresIn: 3600 });
  const challenge = (u: PoolUser, step: string): SignInResult => {
    const session = `pool-session-${++n}`;
    sessions.set(session, { user: u.name, step });
    return { kind: 'challenge', challenge: step, session, ...(u.namesUser === false ? {} : { username: u.name }) };
  };
  const refused = () => new DomainError('unauthorized', 'invalid-credentials', 'no');
  const deps = {
    staff: {
      async signIn(username: string, password: string) {
        if (failSignIn) throw failSignIn;
        const u = users.get(username.toLowerCase());
        if (!u || u.password !== password) throw refused();
        return u.next === 'tokens' ? tokens(u) : challenge(u, u.next);
      },
      async exists() {
        return true;
      },
    },
    challenges: {
      async respond(username: string, step: StaffChallengeStep) {
        responded.push({ username, step });
        const s = sessions.get(step.session);
        const u = users.get(username.toLowerCase());
        if (!s || !u || s.user !== u.name) throw refused();
        // Each pool session answers its own challenge only (the verify step is MFA_SETUP with a code).
        if (step.challenge !== (s.step === 'verify' ? 'MFA_SETUP' : s.step)) throw refused();
        if (step.challenge === 'MFA_SETUP' && (s.step === 'verify') !== 'code' in step) throw refused();
        if (step.challenge === 'NEW_PASSWORD_REQUIRED') {
          u.password = step.newPassword;
          return challenge(u, 'MFA_SETUP');
        }
        if (!('code' in step)) {
          const session = `pool-session-${++n}`;
          sessions.set(session, { user: u.name, step: 'verify' });
          return { kind: 'enrol' as const, secretCode: 'JBSWY3DPEHPK3PXP', session };
        }
        if (step.code !== RIGHT_CODE) throw refused();
        return tokens(u);
      },
      async key(purpose: 'session-seal' | 'audit-username') {
        return keyFor(purpose);
      },
    },
  };
  return {
    deps,
    users,
    responded,
    add: (u: PoolUser) => users.set(u.name.toLowerCase(), u),
    failSignInWith: (err: Error | undefined) => (failSignIn = err),
  };
}

let pool: ReturnType<typeof fakePool>;
let records: ReturnType<typeof memoryStore>;
let counters: ReturnType<typeof memoryThrottleState>;
/** Audit entries written in the throttle's clearing transaction (the DynamoDB adapter's one write). */
let clearedWith: AuditEvent[];
let now: Date;
let deps: StaffSignInDeps;

beforeEach(() => {
  pool = fakePool();
  records = memoryStore();
  counters = memoryThrottleState();
  clearedWith = [];
  now = new Date('2026-11-30T09:00:00.000Z');
  const throttle: ThrottleStore = {
    ...counters.store,
    async clearAccount(key, audit) {
      await counters.store.clearAccount(key);
      if (audit) clearedWith.push(audit);
    },
  };
  deps = { staff: pool.deps.staff, challenges: pool.deps.challenges, throttle, store: records.store, clock: () => now, issuer: 'Practice' };
  pool.add({ name: 'frontdesk', password: 'right password', sub: 'sub-frontdesk', next: 'tokens' });
  records.docs.set('staff:sub-frontdesk', { value: enabledStaffRecord('sub-frontdesk'), version: 1 });
});

const passwordKey = (name: string) => accountThrottleKey('staff', name);
const totpKey = (name: string) => accountThrottleKey('staff', `totp:${name}`);
const everyAudit = () => [...records.audit, ...clearedWith];
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('should be refused'),
    (err: unknown) => {
      expect(err).toBeInstanceOf(DomainError);
      return err as DomainError;
    },
  );
const signIn = (username = 'frontdesk', password = 'right password') => signInStaff(deps, { username, password, context });

/** Signs `name` in up to its first challenge and returns the sealed session. */
async function sealedFor(name: string, next: Next, extra: Partial<PoolUser> = {}) {
  pool.add({ name, password: 'right password', sub: `sub-${name}`, next, ...extra });
  records.docs.set(`staff:sub-${name}`, { value: enabledStaffRecord(`sub-${name}`), version: 1 });
  const answer = await signIn(name);
  if (answer.kind !== 'challenge') throw new Error('expected a challenge');
  return answer.session;
}

describe('rule 30: a password sign-in hands out tokens only for an enabled staff record', () => {
  it('the right password of an enabled login gets the tokens, audited by name in the same write that clears the try', async () => {
    const answer = await signIn();
    expect(answer).toMatchObject({ kind: 'tokens', accessToken: accessFor('sub-frontdesk') });
    expect(counters.accounts.has(passwordKey('frontdesk'))).toBe(false);
    expect(records.audit).toEqual([]);
    expect(clearedWith).toEqual([
      {
        target: 'staff:frontdesk',
        at: now.toISOString(),
        actor: 'frontdesk',
        action: 'staff.sign-in',
        outcome: 'success',
        sourceIp: context.sourceIp,
        detail: { reason: 'tokens' },
      },
    ]);
  });

  it('a disabled record is refused like a wrong password, and the try is cleared with its failure entry', async () => {
    records.docs.set('staff:sub-frontdesk', { value: enabledStaffRecord('sub-frontdesk', { enabled: false }), version: 1 });
    const err = await refusal(signIn());
    expect([err.kind, err.code]).toEqual(['unauthorized', 'invalid-credentials']);
    expect(counters.accounts.has(passwordKey('frontdesk'))).toBe(false);
    expect(records.audit).toEqual([]);
    expect(clearedWith).toHaveLength(1);
    expect(clearedWith[0]).toMatchObject({ action: 'staff.sign-in', outcome: 'failure', detail: { reason: 'invalid-credentials' } });
  });

  it('a login with no staff record is refused', async () => {
    records.docs.delete('staff:sub-frontdesk');
    const err = await refusal(signIn());
    expect(err.code).toBe('invalid-credentials');
  });
});

describe('rule 30: a failed sign-in keeps a keyed hash of the typed username, never the text', () => {
  it('a wrong password is refused, counted and audited under typed:<hmac>', async () => {
    const err = await refusal(signIn('frontdesk', 'wrong password'));
    expect([err.kind, err.code]).toEqual(['unauthorized', 'invalid-credentials']);
    expect(counters.accounts.get(passwordKey('frontdesk'))?.failures).toBe(1);
    expect(clearedWith).toEqual([]);
    expect(records.audit).toHaveLength(1);
    const entry = records.audit[0]!;
    const typed = await typedUsernameHash(deps, 'frontdesk');
    expect(entry).toEqual({
      target: `staff:${typed}`,
      at: now.toISOString(),
      actor: typed,
      action: 'staff.sign-in',
      outcome: 'failure',
      sourceIp: context.sourceIp,
      detail: { reason: 'invalid-credentials' },
    });
    expect(JSON.stringify(entry)).not.toContain('frontdesk');
    expect(JSON.stringify(entry)).not.toContain('wrong password');
  });

  it('the hash is HMAC-SHA256 under the audit key of the trimmed lower-case name, 128 bits, base64url', async () => {
    const expected = createHmac('sha256', keyFor('audit-username')).update('my secret pw').digest().subarray(0, 16).toString('base64url');
    expect(await typedUsernameHash(deps, '  My Secret PW ')).toBe(`typed:${expected}`);
    expect(await typedUsernameHash(deps, 'my secret pw')).toBe(`typed:${expected}`);
    expect(expected).toHaveLength(22);
    expect(await typedUsernameHash(deps, 'other')).not.toBe(`typed:${expected}`);
  });
});

describe('rules 5 and 6: the password try is reserved, and given back only when a backend failed', () => {
  it('a backend failure after the right password gives the reservation back, keeps the error, audits nothing', async () => {
    records.store.getStaff = async () => {
      throw new Error('table down');
    };
    await expect(signIn()).rejects.toThrow('table down');
    expect(counters.accounts.has(passwordKey('frontdesk'))).toBe(false);
    expect(everyAudit()).toEqual([]);
  });

  it('when giving the reservation back fails too, the caller still sees the first failure', async () => {
    records.store.getStaff = async () => {
      throw new Error('table down');
    };
    deps.throttle.clearAccount = async () => {
      throw new Error('throttle down');
    };
    await expect(signIn()).rejects.toThrow('table down');
  });

  it('a pool failure before any password was proved keeps the earlier wrong passwords counted', async () => {
    await refusal(signIn('frontdesk', 'wrong 1'));
    await refusal(signIn('frontdesk', 'wrong 2'));
    pool.failSignInWith(new Error('pool down'));
    await expect(signIn()).rejects.toThrow('pool down');
    expect(counters.accounts.get(passwordKey('frontdesk'))?.failures).toBe(2);
    expect(records.audit).toHaveLength(2);
  });

  it('issue 16: the try is cleared in one write, the one that carries the audit entry', async () => {
    const writes: (AuditEvent | undefined)[] = [];
    const clear = deps.throttle.clearAccount;
    deps.throttle.clearAccount = async (key, audit) => {
      writes.push(audit);
      return clear(key, audit);
    };
    await signIn();
    expect(writes).toEqual([expect.objectContaining({ action: 'staff.sign-in', outcome: 'success' })]);
  });

  it('rule 5: concurrent passwords reach the pool no more often than sequential ones would (the try is reserved first)', async () => {
    for (let i = 0; i < 4; i++) await refusal(signIn('frontdesk', `wrong ${i}`));
    let asked = 0;
    const signInAtPool = deps.staff.signIn;
    deps.staff.signIn = async (...args) => {
      asked++;
      return signInAtPool(...args);
    };
    const results = await Promise.allSettled(['a', 'b', 'c'].map((p) => signIn('frontdesk', `wrong ${p}`)));
    expect(asked).toBe(1);
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as DomainError).code === 'too-many-attempts')).toHaveLength(2);
  });

  it('the counters are read together with one call (issue 16)', async () => {
    let batches = 0;
    deps.throttle.together = async (reads) => {
      batches++;
      return reads();
    };
    await signIn();
    expect(batches).toBe(1);
  });
});

describe('rule 30: a challenge session is sealed to the user the password proved', () => {
  it('the pool names the user: the session carries the pool name, whatever case was typed', async () => {
    pool.add({ name: 'nurse', password: 'right password', sub: 'sub-nurse', next: 'SOFTWARE_TOKEN_MFA' });
    records.docs.set('staff:sub-nurse', { value: enabledStaffRecord('sub-nurse'), version: 1 });
    const answer = await signIn('NURSE');
    expect(answer).toMatchObject({ kind: 'challenge', challenge: 'SOFTWARE_TOKEN_MFA' });
    expect(clearedWith[0]).toMatchObject({ actor: 'NURSE', detail: { reason: 'SOFTWARE_TOKEN_MFA' }, outcome: 'success' });
    if (answer.kind !== 'challenge') return;
    expect(answer.session).not.toContain('pool-session');
    await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session: answer.session, code: RIGHT_CODE }, context);
    expect(pool.responded.at(-1)?.username).toBe('nurse');
  });

  it('when the pool does not name the user, the typed name is sealed', async () => {
    const session = await sealedFor('quiet', 'SOFTWARE_TOKEN_MFA', { namesUser: false });
    await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context);
    expect(pool.responded.at(-1)).toEqual({ username: 'quiet', step: { challenge: 'SOFTWARE_TOKEN_MFA', session: expect.stringMatching(/^pool-session-/), code: RIGHT_CODE } });
  });

  it('a challenge the product does not know is an error, and the password try is given back', async () => {
    pool.add({ name: 'sms', password: 'right password', sub: 'sub-sms', next: 'SMS_MFA' });
    await expect(signIn('sms')).rejects.toThrow(/unexpected challenge SMS_MFA/);
    expect(counters.accounts.has(passwordKey('sms'))).toBe(false);
    expect(everyAudit()).toEqual([]);
  });

  it('a forged, truncated, re-keyed or empty session is refused without asking the pool', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    const raw = Buffer.from(session, 'base64url');
    const flipped = Buffer.from(raw);
    flipped[flipped.length - 1]! ^= 1;
    for (const bad of ['', 'pool-session-1', raw.subarray(0, 28).toString('base64url'), raw.subarray(0, 29).toString('base64url'), flipped.toString('base64url')]) {
      const err = await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session: bad, code: RIGHT_CODE }, context));
      expect([err.kind, err.code]).toEqual(['unauthorized', 'invalid-credentials']);
    }
    expect(pool.responded).toEqual([]);
  });

  it('a session sealed under another key is refused', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    const other = { ...deps, challenges: { ...deps.challenges, key: async () => keyFor('another client secret') } };
    await refusal(answerStaffChallenge(other, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context));
    expect(pool.responded).toEqual([]);
  });

  it('a session lives 15 minutes: accepted a millisecond before, refused at the end', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    const start = now.getTime();
    now = new Date(start + SEALED_SESSION_MS);
    await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context));
    expect(pool.responded).toEqual([]);
    now = new Date(start + SEALED_SESSION_MS - 1);
    expect(await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context)).toMatchObject({ kind: 'tokens' });
  });

  it('a session answers only the challenge it was issued for', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    await refusal(answerStaffChallenge(deps, { challenge: 'MFA_SETUP', session, code: RIGHT_CODE }, context));
    await refusal(answerStaffChallenge(deps, { challenge: 'MFA_SETUP', session }, context));
    await refusal(answerStaffChallenge(deps, { challenge: 'NEW_PASSWORD_REQUIRED', session, newPassword: 'a fine new passphrase' }, context));
    expect(pool.responded).toEqual([]);
    const setup = await sealedFor('newbie', 'MFA_SETUP');
    await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session: setup, code: RIGHT_CODE }, context));
    expect(pool.responded).toEqual([]);
  });
});

describe('rule 27: a new password is checked with the username before the pool sees it', () => {
  it('a password naming the user is refused as body.newPassword and audited, the pool is not asked', async () => {
    const session = await sealedFor('temp', 'NEW_PASSWORD_REQUIRED');
    const err = await refusal(answerStaffChallenge(deps, { challenge: 'NEW_PASSWORD_REQUIRED', session, newPassword: 'my name is temp, ok?' }, context));
    expect([err.kind, err.code]).toEqual(['bad-request', 'validation-error']);
    expect(err.extra.errors).toEqual([{ path: 'body.newPassword', message: expect.any(String) }]);
    expect(pool.responded).toEqual([]);
    expect(records.audit.at(-1)).toMatchObject({
      actor: 'temp',
      target: 'staff:temp',
      action: 'staff.sign-in-challenge',
      outcome: 'failure',
      detail: { challenge: 'NEW_PASSWORD_REQUIRED', reason: 'validation-error' },
    });
  });

  it('a good new password goes to the pool with the sealed pool session, and the next step is sealed again', async () => {
    const session = await sealedFor('temp', 'NEW_PASSWORD_REQUIRED');
    const answer = await answerStaffChallenge(deps, { challenge: 'NEW_PASSWORD_REQUIRED', session, newPassword: 'a fine new passphrase' }, context);
    expect(pool.responded).toEqual([{ username: 'temp', step: { challenge: 'NEW_PASSWORD_REQUIRED', session: expect.stringMatching(/^pool-session-/), newPassword: 'a fine new passphrase' } }]);
    expect(answer).toMatchObject({ kind: 'challenge', challenge: 'MFA_SETUP' });
    expect(records.audit.at(-1)).toMatchObject({ outcome: 'success', detail: { challenge: 'NEW_PASSWORD_REQUIRED', reason: 'MFA_SETUP' } });
    // The same sealed session cannot answer the same step twice in another stage.
    if (answer.kind !== 'challenge') return;
    await refusal(answerStaffChallenge(deps, { challenge: 'MFA_SETUP', session: answer.session, code: RIGHT_CODE }, context));
  });
});

describe('rule 30: MFA set-up starts, then verifies, each with its own sealed stage', () => {
  it('the start gives the secret and its otpauth URI; only the verify stage takes a code, and only once', async () => {
    const start = await sealedFor('newbie', 'MFA_SETUP');
    const enrol = await answerStaffChallenge(deps, { challenge: 'MFA_SETUP', session: start }, context);
    expect(enrol).toEqual({
      kind: 'challenge',
      challenge: 'MFA_SETUP',
      session: expect.any(String),
      secretCode: 'JBSWY3DPEHPK3PXP',
      otpauthUri: 'otpauth://totp/Practice:newbie?secret=JBSWY3DPEHPK3PXP&issuer=Practice',
    });
    expect(records.audit.at(-1)).toMatchObject({ outcome: 'success', detail: { challenge: 'MFA_SETUP', reason: 'MFA_SETUP' } });
    if (enrol.kind !== 'challenge') return;
    // The verify stage's session does not start set-up again, and the start's does not verify.
    await refusal(answerStaffChallenge(deps, { challenge: 'MFA_SETUP', session: enrol.session }, context));
    await refusal(answerStaffChallenge(deps, { challenge: 'MFA_SETUP', session: start, code: RIGHT_CODE }, context));
    expect(pool.responded).toHaveLength(1);
    const done = await answerStaffChallenge(deps, { challenge: 'MFA_SETUP', session: enrol.session, code: RIGHT_CODE }, context);
    expect(done).toMatchObject({ kind: 'tokens' });
    expect(pool.responded.at(-1)?.step).toEqual({ challenge: 'MFA_SETUP', session: expect.stringMatching(/^pool-session-/), code: RIGHT_CODE });
  });

  it('otpauth URIs encode every part (Key Uri Format)', () => {
    expect(otpauthUri('St Mary: Clinic', 'a b@c', 'AB/C=')).toBe('otpauth://totp/St%20Mary%3A%20Clinic:a%20b%40c?secret=AB%2FC%3D&issuer=St%20Mary%3A%20Clinic');
  });
});

describe('rules 5 and 30: codes are throttled per user on a counter of their own, and a used code is refused', () => {
  it('a right code gets tokens and is audited; a wrong one is refused, counted on the code counter, audited', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    const err = await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: '000000' }, context));
    expect([err.kind, err.code]).toEqual(['unauthorized', 'invalid-credentials']);
    expect(counters.accounts.get(totpKey('nurse'))?.failures).toBe(1);
    expect(records.audit.at(-1)).toMatchObject({
      actor: 'nurse',
      target: 'staff:nurse',
      action: 'staff.sign-in-challenge',
      outcome: 'failure',
      sourceIp: context.sourceIp,
      detail: { challenge: 'SOFTWARE_TOKEN_MFA', reason: 'invalid-credentials' },
    });
    // A right password does not wipe the wrong codes.
    await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    expect(counters.accounts.get(totpKey('nurse'))?.failures).toBe(1);
    const answer = await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context);
    expect(answer).toMatchObject({ kind: 'tokens', accessToken: accessFor('sub-nurse') });
    expect(counters.accounts.has(totpKey('nurse'))).toBe(false);
    expect(records.audit.at(-1)).toEqual({
      target: 'staff:nurse',
      at: now.toISOString(),
      actor: 'nurse',
      action: 'staff.sign-in-challenge',
      outcome: 'success',
      sourceIp: context.sourceIp,
      detail: { challenge: 'SOFTWARE_TOKEN_MFA', reason: 'tokens' },
    });
  });

  it('after five wrong codes the next one waits: 429 without asking the pool', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    for (let i = 0; i < 5; i++) await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: `00000${i}` }, context));
    const asked = pool.responded.length;
    const err = await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context));
    expect([err.kind, err.code]).toEqual(['too-many-requests', 'too-many-attempts']);
    expect(pool.responded).toHaveLength(asked);
  });

  it('concurrent codes reach the pool no more often than sequential ones would (the try is reserved first)', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    for (let i = 0; i < 4; i++) await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: `11111${i}` }, context));
    const asked = pool.responded.length;
    const results = await Promise.allSettled(
      ['222220', '222221', '222222'].map((code) => answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code }, context)),
    );
    expect(pool.responded.length - asked).toBe(1);
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as DomainError).code === 'too-many-attempts')).toHaveLength(2);
  });

  it('a code that signed the user in is refused for two minutes, then taken again', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context);
    const asked = pool.responded.length;
    const start = now.getTime();
    now = new Date(start + USED_CODE_MS - 1);
    const again = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    const err = await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session: again, code: RIGHT_CODE }, context));
    expect([err.kind, err.code]).toEqual(['unauthorized', 'invalid-credentials']);
    expect(pool.responded).toHaveLength(asked);
    now = new Date(start + USED_CODE_MS);
    const later = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    expect(await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session: later, code: RIGHT_CODE }, context)).toMatchObject({ kind: 'tokens' });
  });

  it('a used code is per user: the same digits for another user go to the pool', async () => {
    const first = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session: first, code: RIGHT_CODE }, context);
    const second = await sealedFor('doctor', 'SOFTWARE_TOKEN_MFA');
    expect(await answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session: second, code: RIGHT_CODE }, context)).toMatchObject({ kind: 'tokens' });
  });

  it('when a concurrent request marked the same code first, this one is refused without asking the pool', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    const usedKey = accountThrottleKey('staff', `totp-used:nurse:${RIGHT_CODE}`);
    const reserve = deps.throttle.reserve;
    deps.throttle.reserve = async (key, seen, at) => {
      // The other request's mark lands between this one's read and its reservation.
      if (key === usedKey) counters.accounts.set(usedKey, { failures: 1, lastFailureAt: at.getTime() });
      return reserve(key, seen, at);
    };
    const err = await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context));
    expect(err.code).toBe('invalid-credentials');
    expect(pool.responded).toEqual([]);
  });

  it('a disabled record is refused at the code step too', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    records.docs.set('staff:sub-nurse', { value: enabledStaffRecord('sub-nurse', { enabled: false }), version: 1 });
    const err = await refusal(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context));
    expect(err.code).toBe('invalid-credentials');
    expect(records.audit.at(-1)).toMatchObject({ outcome: 'failure', detail: { reason: 'invalid-credentials' } });
  });

  it('a backend failure at the code step is not audited as a refusal', async () => {
    const session = await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    const before = records.audit.length;
    deps.challenges.respond = async () => {
      throw new Error('pool down');
    };
    await expect(answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context)).rejects.toThrow('pool down');
    expect(records.audit).toHaveLength(before);
  });
});

describe('rule 30: only a session this module sealed, whole and for its stage, is opened', () => {
  /**
   * Seals `value` as the module does (AES-256-GCM under the session-seal key: iv | tag | body):
   * what only a holder of the app client's secret could make. A well-formed one is accepted
   * below, so each refusal is the module's check of the sealed content, not a broken seal.
   */
  const sealAs = (value: Record<string, unknown>) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyFor('session-seal'), iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  };
  const exp = () => now.getTime() + 60_000;
  const code = (session: string) => answerStaffChallenge(deps, { challenge: 'SOFTWARE_TOKEN_MFA', session, code: RIGHT_CODE }, context);
  const refusedUnasked = async (p: Promise<unknown>) => {
    const err = await refusal(p);
    expect([err.kind, err.code]).toEqual(['unauthorized', 'invalid-credentials']);
    expect(pool.responded).toEqual([]);
  };
  let poolSession: string;
  beforeEach(async () => {
    await sealedFor('nurse', 'SOFTWARE_TOKEN_MFA');
    poolSession = 'pool-session-1';
  });

  it('a well-formed sealed session is accepted (the control for the refusals below)', async () => {
    expect(await code(sealAs({ u: 'nurse', s: poolSession, c: 'SOFTWARE_TOKEN_MFA', stage: 'answer', exp: exp() }))).toMatchObject({ kind: 'tokens' });
  });

  it('a sealed session without the user, the pool session or a numeric end is refused without asking the pool', async () => {
    await refusedUnasked(code(sealAs({ s: poolSession, c: 'SOFTWARE_TOKEN_MFA', stage: 'answer', exp: exp() })));
    await refusedUnasked(code(sealAs({ u: 7, s: poolSession, c: 'SOFTWARE_TOKEN_MFA', stage: 'answer', exp: exp() })));
    await refusedUnasked(code(sealAs({ u: 'nurse', c: 'SOFTWARE_TOKEN_MFA', stage: 'answer', exp: exp() })));
    await refusedUnasked(code(sealAs({ u: 'nurse', s: poolSession, c: 'SOFTWARE_TOKEN_MFA', stage: 'answer' })));
    await refusedUnasked(code(sealAs({ u: 'nurse', s: poolSession, c: 'SOFTWARE_TOKEN_MFA', stage: 'answer', exp: '2099-01-01T00:00:00.000Z' })));
  });

  it('a password or code step sealed for the verify stage is refused without asking the pool', async () => {
    await refusedUnasked(code(sealAs({ u: 'nurse', s: poolSession, c: 'SOFTWARE_TOKEN_MFA', stage: 'verify', exp: exp() })));
    const newPassword = sealAs({ u: 'nurse', s: poolSession, c: 'NEW_PASSWORD_REQUIRED', stage: 'verify', exp: exp() });
    await refusedUnasked(answerStaffChallenge(deps, { challenge: 'NEW_PASSWORD_REQUIRED', session: newPassword, newPassword: 'a fine new passphrase' }, context));
  });
});
