/**
 * Mutation-testing rules for the revocation part of lambdas/domain/portal-record.ts (issue 20):
 * the one generation counter of sessions and links (rules 17 and 29), through the public functions.
 */
import { describe, expect, it } from 'vitest';
import {
  applyChange,
  editRecord,
  linkGenerationOf,
  linksStillLive,
  newRecord,
  present,
  revokeSessionsAndLinks,
  sessionGenerationOf,
  sessionStillLive,
  type StoredRecord,
} from '../../../lambdas/domain/portal-record.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { fixedClock, memoryStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const record = (over: Partial<StoredRecord> = {}): StoredRecord => ({ ...newRecord('P-1', now), version: 1, ...over });

describe('rules 17 and 29: the generation counter', () => {
  it('a record without a generation is at 0; otherwise at its own', () => {
    expect(linkGenerationOf(record())).toBe(0);
    expect(linkGenerationOf(record({ linkGeneration: 4 }))).toBe(4);
    expect(sessionGenerationOf(record({ linkGeneration: 4 }))).toBe(4);
  });

  it('a link stays live only while its stamp equals the generation exactly (an absent stamp is 0)', () => {
    expect(linksStillLive(undefined, record())).toBe(true);
    expect(linksStillLive(0, record())).toBe(true);
    expect(linksStillLive(undefined, record({ linkGeneration: 1 }))).toBe(false);
    expect(linksStillLive(2, record({ linkGeneration: 2 }))).toBe(true);
    expect(linksStillLive(1, record({ linkGeneration: 2 }))).toBe(false);
    expect(linksStillLive(3, record({ linkGeneration: 2 }))).toBe(false);
  });

  it('rule 17: a session is live only with a whole-number stamp equal to the generation; no stamp is never read as 0', () => {
    expect(sessionStillLive(0, record())).toBe(true);
    expect(sessionStillLive(2, record({ linkGeneration: 2 }))).toBe(true);
    for (const stamp of [undefined, null, '0', 0.5, Number.NaN, 1, -0.1]) expect(sessionStillLive(stamp, record()), String(stamp)).toBe(false);
    expect(sessionStillLive(1, record({ linkGeneration: 2 }))).toBe(false);
    expect(sessionStillLive(2 ** 53, record({ linkGeneration: 2 ** 53 }))).toBe(false);
  });

  it('a revoke bumps the generation by one and remembers when', () => {
    expect(revokeSessionsAndLinks(record(), 'T')).toEqual({ revokedAt: 'T', linkGeneration: 1 });
    expect(revokeSessionsAndLinks(record({ linkGeneration: 6 }), 'T')).toEqual({ revokedAt: 'T', linkGeneration: 7 });
  });
});

describe('rule 29: what a staff edit does to sessions and links', () => {
  it('access off bumps the generation, stamps revokedAt and cancels a pending or locked invitation', () => {
    for (const status of ['Pending', 'Locked'] as const) {
      const current = record({ linkGeneration: 2, invite: { status } });
      const { next, changed } = applyChange(current, { accessEnabled: false }, now);
      expect(changed).toEqual(['accessEnabled']);
      expect(next.linkGeneration).toBe(3);
      expect(next.revokedAt).toBe(now.toISOString());
      expect(next.invite.status).toBe('Cancelled');
    }
  });

  it('a new email bumps the generation without stamping revokedAt and forgets the delivery events of the old address', () => {
    const current = record({ email: 'old@example.test', invite: { status: 'Accepted' }, emailDelivery: { kind: 'Bounce' } as never });
    const { next } = applyChange(current, { email: 'new@example.test' }, now);
    expect(next.linkGeneration).toBe(1);
    expect(next.revokedAt).toBeUndefined();
    expect(next.invite.status).toBe('Accepted');
    expect(next).not.toHaveProperty('emailDelivery');
  });

  it('access on, an edit of another field, or the same email again bump nothing', () => {
    const off = record({ accessEnabled: false, email: 'a@example.test' });
    expect(applyChange(off, { accessEnabled: true }, now).next.linkGeneration).toBeUndefined();
    const on = record({ email: 'a@example.test', invite: { status: 'Pending' } });
    for (const change of [{ phone: '+15555550100' }, { email: 'a@example.test' }, { comment: 'hi' }, { accessEnabled: true }]) {
      const { next } = applyChange(on, change, now);
      expect(next.linkGeneration, JSON.stringify(change)).toBeUndefined();
      expect(next.invite.status).toBe('Pending');
      expect(next).not.toHaveProperty('revokedAt');
    }
  });

  it('the generation is never shown to staff', () => {
    expect(present(record({ linkGeneration: 3 }), now)).not.toHaveProperty('linkGeneration');
  });

  it('the audit entry of an edit that kills links says so; one that does not, does not', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, clock: fixedClock(), mailer: memoryMailer().mailer, settingsDefaults: { practiceName: 'P', portalUrl: 'https://portal.example.test' } };
    const actor = { id: 'frontdesk', sourceIp: '203.0.113.9' };
    await editRecord(deps, actor, 'P-1', { email: 'a@example.test' }, undefined);
    await editRecord(deps, actor, 'P-1', { comment: 'x' }, undefined);
    await editRecord(deps, actor, 'P-1', { email: 'b@example.test' }, undefined);
    const details = mem.audit.map((a) => a.detail as Record<string, unknown>);
    expect(details.slice(1).map((d) => d.linksKilled)).toEqual([undefined, true]);
  });
});
