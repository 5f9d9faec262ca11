/**
 * The new-password step and the forced credential change under the revocation rule (rule 17):
 * the step carries the record's generation and works only while it is exactly the record's; a
 * forced change bumps it, so sessions from before it stay dead after the new password is chosen.
 * Everything here happens in the same millisecond: no clock decides any of it.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { forceCredentialChange, type ForcedChangeJob } from '../../../lambdas/domain/forced-change.ts';
import { completeNewPassword, type PatientSignInDeps } from '../../../lambdas/domain/patient-sign-in.ts';
import { applyChange, linkGenerationOf, newRecord, revokeSessionsAndLinks, sessionStillLive, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountStore, Challenge, ChallengeStore, PatientLogins } from '../../../lambdas/domain/ports.ts';
import { sha256 } from '../../../lambdas/domain/secrets.ts';
import { memoryStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const audit = { target: 'x', at: now.toISOString(), actor: 'x', action: 'x', outcome: 'success' as const, sourceIp: 'x', detail: {} };

function world() {
  const mem = memoryStore();
  const challenges = new Map<string, Challenge>();
  const passwords = new Map<string, string>();
  const challengeStore: ChallengeStore = {
    async create(hash, c) {
      challenges.set(hash, { ...c });
    },
    async get(hash) {
      return challenges.get(hash);
    },
  };
  const accounts: AccountStore = {
    async findByUsername() {
      return undefined;
    },
    async findByAccountId(accountId) {
      return { accountId, patientId: 'P-1' };
    },
    async saveLogin(record, expected, event, options) {
      if (options.consumeChallenge && !challenges.delete(options.consumeChallenge)) throw new DomainError('unauthorized', 'session-expired', 'used');
      await mem.store.saveRecord(record, expected, event);
    },
  };
  let minted = 0;
  const logins = {
    async setPassword(accountId: string, password: string) {
      passwords.set(accountId, password);
    },
    async signIn() {
      minted++;
      return { kind: 'tokens' as const, accessToken: `a${minted}`, idToken: `i${minted}`, refreshToken: `r${minted}`, expiresIn: 3600 };
    },
    async revokeRefreshToken() {},
  } as unknown as PatientLogins;
  const deps: PatientSignInDeps = { accounts, store: mem.store, logins, challenges: challengeStore, throttle: {} as never, clock: () => now };
  const record = async () => (await mem.store.getRecord('P-1'))!;
  const put = async (next: StoredRecord) => {
    const current = await mem.store.getRecord('P-1');
    await mem.store.saveRecord({ ...next, version: (current?.version ?? 0) + 1 }, current?.version ?? 0, audit);
  };
  /** The state Register Patient leaves: a login that must choose a new password, generation bumped. */
  const registered = async () => {
    const base: StoredRecord = { ...newRecord('P-1', now), accountId: 'acc-1', username: 'pat.smith', registration: 'ForcedRegistration' };
    await put({ ...base, login: { mustChangePassword: true }, ...revokeSessionsAndLinks(base, now.toISOString()) });
  };
  /** What signInPatient stores when the temporary password is right: the step, under the record's generation. */
  const openStep = async (session: string) => {
    const r = await record();
    await challengeStore.create(sha256(session), { accountId: 'acc-1', patientId: 'P-1', expiresAt: '2026-11-21T10:10:00.000Z', generation: linkGenerationOf(r) });
  };
  const complete = (session: string) => completeNewPassword(deps, { session, newPassword: 'lantern orchard pebble violin', sourceIp: '203.0.113.5' });
  return { mem, challenges, deps, record, put, registered, openStep, complete };
}

const expired = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe('session-expired');
};

describe('new-password step (rule 17)', () => {
  it('completes under the generation it was opened under, in the same millisecond', async () => {
    const w = world();
    await w.registered();
    await w.openStep('s1');
    expect((await w.complete('s1')).kind).toBe('tokens');
    expect((await w.record()).login).toBeUndefined();
  });

  it('rule 17: dies at any bump of the generation after it opened: revoke and re-enable, an email change, Register Patient again', async () => {
    const bumps: Record<string, (w: ReturnType<typeof world>) => Promise<void>> = {
      'revoke and re-enable': async (w) => {
        const r = await w.record();
        await w.put({ ...r, accessEnabled: false, ...revokeSessionsAndLinks(r, now.toISOString()) });
        await w.put(applyChange(await w.record(), { accessEnabled: true }, now).next);
      },
      'email change': async (w) => w.put(applyChange(await w.record(), { email: 'new@example.test' }, now).next),
      'Register Patient again': async (w) => {
        const r = await w.record();
        await w.put({ ...r, ...revokeSessionsAndLinks(r, now.toISOString()) });
      },
    };
    for (const [name, bump] of Object.entries(bumps)) {
      const w = world();
      await w.registered();
      await w.openStep('s1');
      await bump(w);
      expect((await w.record()).login?.mustChangePassword, name).toBe(true);
      await expired(w.complete('s1'));
    }
  });

  it('rule 17: a step that carries no generation (opened before the rule) or another one is refused', async () => {
    const w = world();
    await w.registered();
    await w.openStep('s1');
    const stored = w.challenges.get(sha256('s1'))!;
    const { generation: _g, ...none } = stored;
    w.challenges.set(sha256('s1'), none);
    await expired(w.complete('s1'));
    w.challenges.set(sha256('s1'), { ...stored, generation: stored.generation! + 1 });
    await expired(w.complete('s1'));
  });

  it('an edit that bumps nothing (a comment) leaves the step alive', async () => {
    const w = world();
    await w.registered();
    await w.openStep('s1');
    await w.put(applyChange(await w.record(), { comment: 'called back' }, now).next);
    expect((await w.complete('s1')).kind).toBe('tokens');
  });
});

describe('forced credential change (rule 17)', () => {
  const jobs = () => {
    let job: ForcedChangeJob | undefined;
    return {
      async getJob() {
        return job;
      },
      async saveJob(next: ForcedChangeJob) {
        job = next;
      },
    };
  };

  it('rule 17: bumps the generation, so a session from before stays dead after the new password is chosen', async () => {
    const w = world();
    const base: StoredRecord = { ...newRecord('P-1', now), accountId: 'acc-1', username: 'pat.smith', registration: 'NormalRegistration', linkGeneration: 3 };
    await w.put(base);
    const before = linkGenerationOf(await w.record()); // what a token minted now carries
    await forceCredentialChange({ store: w.mem.store, jobs: jobs(), clock: () => now }, { id: 'boss', sourceIp: '203.0.113.1' });
    const forced = await w.record();
    expect(forced.login?.mustChangePassword).toBe(true);
    expect(sessionStillLive(before, forced)).toBe(false);
    // The patient chooses a new password (the step opened after the forced change).
    await w.openStep('s2');
    await w.complete('s2');
    const after = await w.record();
    expect(after.login).toBeUndefined();
    expect(sessionStillLive(before, after)).toBe(false);
    // A session opened now, under the current generation, lives.
    expect(sessionStillLive(linkGenerationOf(after), after)).toBe(true);
  });
});
