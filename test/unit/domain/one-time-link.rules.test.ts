/**
 * Mutation-testing rules for lambdas/domain/one-time-link.ts (issue 20): the pure parts of a
 * link's life at their edges (rules 7, 9, 11, 12, 29): when a link is pending, why it is dead,
 * what a new link and an ended one hold, and "did my commit happen?".
 */
import { describe, expect, it } from 'vitest';
import { commitHappened, deathOf, ended, isPending, newLink, type LinkPolicy, type LinkState } from '../../../lambdas/domain/one-time-link.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { sha256 } from '../../../lambdas/domain/secrets.ts';
import type { Settings } from '../../../lambdas/schemas/settings.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const record = (over: Partial<StoredRecord> = {}): StoredRecord => ({ ...newRecord('P-1', now), version: 3, ...over });
const policy = {
  kind: 'test',
  lifetimeMs: (s: Settings) => s.invitationDays * 86_400_000,
  maxFailures: 3,
  recordAllows: (r: StoredRecord) => r.accessEnabled,
} as unknown as LinkPolicy<{ note: string }>;
const settings = { invitationDays: 2 } as Settings;

const state = (over: Partial<LinkState<{ note: string }>> = {}): LinkState<{ note: string }> => ({
  patientId: 'P-1',
  linkId: 'L-1',
  status: 'Pending',
  tokenHash: 'H',
  failures: 0,
  tries: 0,
  expiresAt: '2026-11-21T11:00:00.000Z',
  version: 1,
  ...over,
});

describe('rules 7 and 12: a pending link', () => {
  it('is Pending, under maxFailures and before its expiry, strictly', () => {
    expect(isPending(policy, state(), now)).toBe(true);
    expect(isPending(policy, state({ failures: 2 }), now)).toBe(true);
    expect(isPending(policy, state({ failures: 3 }), now)).toBe(false);
    expect(isPending(policy, state({ expiresAt: now.toISOString() }), now)).toBe(false);
    expect(isPending(policy, state({ expiresAt: '2026-11-21T10:00:00.001Z' }), now)).toBe(true);
    expect(isPending(policy, state({ status: 'Locked' }), now)).toBe(false);
    expect(isPending(policy, undefined, now)).toBe(false);
  });
});

describe('rules 9, 11 and 29: why a link is dead', () => {
  const found = (over: Partial<Parameters<typeof deathOf>[1]> = {}) => ({
    tokenHash: 'H',
    pointer: { tokenHash: 'H', patientId: 'P-1', linkId: 'L-1', expiresAt: '2026-11-21T11:00:00.000Z' },
    state: state(),
    record: record(),
    ...over,
  });

  it('a live link: none; with no token asked about, the state and record alone', () => {
    expect(deathOf(policy, found(), now)).toBeUndefined();
    expect(deathOf(policy, { state: state(), record: record() }, now)).toBeUndefined();
  });

  it('no state, no record, or a token without a pointer: unknown', () => {
    expect(deathOf(policy, found({ state: undefined }), now)).toBe('unknown');
    expect(deathOf(policy, found({ record: undefined }), now)).toBe('unknown');
    expect(deathOf(policy, found({ pointer: undefined }), now)).toBe('unknown');
  });

  it('a pointer to another link, or a token that is not the state one: replaced (before any other reason)', () => {
    expect(deathOf(policy, found({ pointer: { ...found().pointer, linkId: 'L-0' }, state: state({ status: 'Used' }) }), now)).toBe('replaced');
    expect(deathOf(policy, found({ tokenHash: 'H2', pointer: { ...found().pointer, tokenHash: 'H2' } }), now)).toBe('replaced');
  });

  it('used, cancelled, locked (by status or by count), expired (at the very ms), record changed', () => {
    expect(deathOf(policy, found({ state: state({ status: 'Used' }) }), now)).toBe('used');
    expect(deathOf(policy, found({ state: state({ status: 'Cancelled' }) }), now)).toBe('cancelled');
    expect(deathOf(policy, found({ state: state({ status: 'Locked' }) }), now)).toBe('locked');
    expect(deathOf(policy, found({ state: state({ failures: 3 }) }), now)).toBe('locked');
    expect(deathOf(policy, found({ state: state({ failures: 2 }) }), now)).toBeUndefined();
    expect(deathOf(policy, found({ state: state({ expiresAt: now.toISOString() }) }), now)).toBe('expired');
    expect(deathOf(policy, found({ record: record({ accessEnabled: false }) }), now)).toBe('record-changed');
    expect(deathOf(policy, found({ record: record({ linkGeneration: 1 }) }), now)).toBe('record-changed');
    expect(deathOf(policy, found({ state: state({ linkGeneration: 1 }), record: record({ linkGeneration: 1 }) }), now)).toBeUndefined();
  });
});

describe('a new link', () => {
  it('is pending with fresh counters, the token only as its hash, expiring after the lifetime, at the record generation', () => {
    const made = newLink(policy, { record: record({ linkGeneration: 4 }), current: undefined, now, settings });
    expect(made.state).toEqual({
      patientId: 'P-1',
      linkId: expect.any(String),
      status: 'Pending',
      tokenHash: sha256(made.token),
      failures: 0,
      tries: 0,
      expiresAt: '2026-11-23T10:00:00.000Z',
      linkGeneration: 4,
      version: 1,
    });
    expect(made.write).toEqual({
      state: { next: made.state, expectedVersion: 0 },
      putPointer: { tokenHash: sha256(made.token), patientId: 'P-1', linkId: made.state.linkId, expiresAt: '2026-11-23T10:00:00.000Z' },
    });
    expect(newLink(policy, { record: record(), current: undefined, now, settings }).state.linkId).not.toBe(made.state.linkId);
  });

  it('replacing a link deletes its pointer and follows its version; secrets, data, linkId and accountId only when given', () => {
    const current = state({ version: 7, failures: 2, tries: 2, accountId: 'acc-old', secrets: { pin: 'x' }, data: { note: 'old' } });
    const made = newLink(policy, { record: record(), current, now, settings, secrets: { pin: 'y' }, data: { note: 'n' }, linkId: 'L-1', accountId: 'acc-1' });
    expect(made.state).toMatchObject({ linkId: 'L-1', secrets: { pin: 'y' }, data: { note: 'n' }, accountId: 'acc-1', failures: 0, tries: 0, version: 8 });
    expect(made.write.state.expectedVersion).toBe(7);
    expect(made.write.deletePointer).toBe('H');
    const bare = newLink(policy, { record: record(), current: state({ tokenHash: undefined }), now, settings });
    expect(bare.state).not.toHaveProperty('accountId');
    expect(bare.state).not.toHaveProperty('secrets');
    expect(bare.state).not.toHaveProperty('data');
    expect(bare.write).not.toHaveProperty('deletePointer');
  });
});

describe('an ended link', () => {
  it('drops the token and the lease; keeps its secrets only when Locked (a resend may revive it); bumps the version', () => {
    const live = state({ secrets: { pin: 'x' }, lease: { id: 'l', until: 'u' }, version: 4 });
    for (const status of ['Used', 'Cancelled'] as const) {
      const e = ended(live, status);
      expect(e).toMatchObject({ status, version: 5 });
      expect(e).not.toHaveProperty('tokenHash');
      expect(e).not.toHaveProperty('lease');
      expect(e).not.toHaveProperty('secrets');
    }
    expect(ended(live, 'Locked')).toMatchObject({ status: 'Locked', secrets: { pin: 'x' }, version: 5 });
    expect(ended(live, 'Locked')).not.toHaveProperty('tokenHash');
    expect(ended(state(), 'Locked')).not.toHaveProperty('secrets');
  });
});

describe('rule 24: did my commit happen?', () => {
  it('yes only when that very link reads Used; another link, another status or a failed read is no', async () => {
    const reads = (s: LinkState | undefined | Error) => ({ get: async () => (s instanceof Error ? Promise.reject(s) : s) });
    expect(await commitHappened(reads(state({ status: 'Used' })), 'P-1', 'L-1')).toBe(true);
    expect(await commitHappened(reads(state({ status: 'Used', linkId: 'L-2' })), 'P-1', 'L-1')).toBe(false);
    expect(await commitHappened(reads(state()), 'P-1', 'L-1')).toBe(false);
    expect(await commitHappened(reads(undefined), 'P-1', 'L-1')).toBe(false);
    expect(await commitHappened(reads(new Error('down')), 'P-1', 'L-1')).toBe(false);
  });
});
