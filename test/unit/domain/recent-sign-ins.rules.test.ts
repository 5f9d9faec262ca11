/**
 * Issue 15 item 5: the patient sees the last sign-ins to their login, read from the audit trail
 * (rule 18), so they can spot someone else's. Only `patient.sign-in` entries, only when, how it
 * ended, in words, and from where: never a staff action, an actor or another field of the trail.
 * At most 10 are shown, and the trail is read a page at a time up to 100 entries, no further.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../lambdas/domain/audit.ts';
import type { RecordStore } from '../../../lambdas/domain/ports.ts';
import { describeSignIn, recentSignIns, SIGN_INS_SHOWN } from '../../../lambdas/domain/recent-sign-ins.ts';

const at = (i: number) => new Date(Date.parse('2026-11-21T10:00:00.000Z') - i * 60_000).toISOString();

const signIn = (i: number, outcome: AuditEvent['outcome'] = 'success', reason: AuditEvent['detail'][string] = 'tokens'): AuditEvent => ({
  target: 'patient:P-1',
  at: at(i),
  actor: 'anonymous',
  action: 'patient.sign-in',
  outcome,
  sourceIp: `192.0.2.${i % 250}`,
  detail: { reason, username: 'pat.one' },
});
const staffAction = (i: number): AuditEvent => ({ target: 'patient:P-1', at: at(i), actor: 'frontdesk', action: 'portal-record.updated', outcome: 'success', sourceIp: '10.0.0.1', detail: { fields: ['email'] } });

/** A trail read like DynamoDB's: newest first, `limit` a page, a cursor while more remain; counts the reads. */
function trail(events: AuditEvent[], pageSize?: number) {
  const reads: { target: string; limit: number }[] = [];
  const store = {
    async listAudit(target: string, cursor: string | undefined, limit: number) {
      reads.push({ target, limit });
      const from = cursor ? Number(cursor) : 0;
      const size = pageSize ?? limit;
      const items = events.filter((e) => e.target === target).slice(from, from + size);
      const next = from + size;
      return { items, ...(next < events.length ? { cursor: String(next) } : {}) };
    },
  } as unknown as RecordStore;
  return { deps: { store }, reads };
}

describe('recent sign-ins: what is shown', () => {
  it('only sign-ins, newest first, each as when, outcome, words and source address: no actor, no detail, no staff action', async () => {
    const { deps, reads } = trail([signIn(1), staffAction(2), signIn(3, 'failure', 'invalid-credentials'), { ...signIn(4), target: 'patient:P-2' }]);
    const shown = await recentSignIns(deps, 'P-1');
    expect(shown).toEqual([
      { at: at(1), outcome: 'success', words: 'Signed in', from: '192.0.2.1' },
      { at: at(3), outcome: 'failure', words: 'Wrong password', from: '192.0.2.3' },
    ]);
    expect(JSON.stringify(shown)).not.toMatch(/pat\.one|frontdesk|anonymous|email/);
    expect(reads[0]!.target).toBe('patient:P-1');
  });

  it('each reason in words; an unknown one (or none) says only how it ended', () => {
    const words = (outcome: AuditEvent['outcome'], reason: AuditEvent['detail'][string]) => describeSignIn(signIn(1, outcome, reason)).words;
    expect(words('success', 'new-password-required')).toBe('Signed in and asked for a new password');
    expect(words('failure', 'too-many-attempts')).toBe('Refused: too many tries');
    expect(words('failure', 'sign-in-locked')).toBe('Refused: sign-in locked');
    expect(words('failure', 'access-disabled')).toBe('Refused: portal access is off');
    expect(words('failure', 'temporary-password-expired')).toBe('Refused: the temporary password had expired');
    expect(words('failure', 'something-new')).toBe('Refused');
    expect(words('success', 'something-new')).toBe('Signed in');
    // A reason that is not a string is no reason (a list naming a known one is not read as it).
    expect(words('success', ['invalid-credentials'])).toBe('Signed in');
    expect(words('failure', ['tokens'])).toBe('Refused');
    expect(words('failure', 7)).toBe('Refused');
  });
});

describe('recent sign-ins: how far the trail is read', () => {
  it(`at most ${SIGN_INS_SHOWN} are shown, the newest`, async () => {
    const { deps } = trail(Array.from({ length: 30 }, (_, i) => signIn(i)));
    const shown = await recentSignIns(deps, 'P-1');
    expect(SIGN_INS_SHOWN).toBe(10);
    expect(shown.map((s) => s.at)).toEqual(Array.from({ length: 10 }, (_, i) => at(i)));
  });

  it('reads page after page until it has 10, and no page more', async () => {
    // Pages of 5 entries, two sign-ins a page: 5 pages give the 10.
    const events = Array.from({ length: 60 }, (_, i) => (i % 5 < 2 ? signIn(i) : staffAction(i)));
    const { deps, reads } = trail(events, 5);
    const shown = await recentSignIns(deps, 'P-1');
    expect(shown).toHaveLength(10);
    expect(reads).toHaveLength(5);
  });

  it('stops after 100 entries read even with fewer than 10 found, and at the end of the trail', async () => {
    const events = Array.from({ length: 300 }, (_, i) => (i % 50 === 0 ? signIn(i) : staffAction(i)));
    const { deps, reads } = trail(events);
    expect(await recentSignIns(deps, 'P-1')).toHaveLength(2);
    expect(reads.map((r) => r.limit)).toEqual([50, 50]);
    const short = trail([signIn(1), staffAction(2)]);
    expect(await recentSignIns(short.deps, 'P-1')).toHaveLength(1);
    expect(short.reads).toHaveLength(1);
  });
});
