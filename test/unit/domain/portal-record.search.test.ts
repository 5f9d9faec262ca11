/**
 * GET /portal/records (searchRecords) and the first-login stamp (issue 19), through the exported
 * functions only: what staff are shown, never internal state; the registeredSince window exact.
 */
import { describe, expect, it } from 'vitest';
import { firstLoginStamp, newRecord, searchRecords, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { RecordStore } from '../../../lambdas/domain/ports.ts';
import { memoryStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const rec = (patientId: string, over: Partial<StoredRecord> = {}): StoredRecord => ({ ...newRecord(patientId, now), version: 1, ...over });

function storeWith(items: StoredRecord[], cursor?: string) {
  const asked: { filter?: { registeredSince?: string } }[] = [];
  const store: RecordStore = {
    ...memoryStore().store,
    async searchRecords(_q, _c, _l, filter) {
      asked.push({ ...(filter ? { filter } : {}) });
      return { items: structuredClone(items), ...(cursor ? { cursor } : {}) };
    },
  };
  return { store, asked };
}

describe('GET /portal/records', () => {
  it('answers each record as staff see it (status message, no internal state) and passes the cursor on', async () => {
    const { store } = storeWith([rec('P-1', { linkGeneration: 3, revokedAt: now.toISOString(), login: { mustChangePassword: true } })], 'next-page');
    const page = await searchRecords({ store, clock: () => now }, 'smith', undefined, 20);
    expect(page.cursor).toBe('next-page');
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ patientId: 'P-1', statusMessage: 'Enabled / Not Registered / No Invite' });
    expect(page.items[0]).not.toHaveProperty('linkGeneration');
    expect(page.items[0]).not.toHaveProperty('revokedAt');
    expect(page.items[0]).not.toHaveProperty('login');
  });

  it('the last page has no cursor at all', async () => {
    const { store } = storeWith([rec('P-1')]);
    const page = await searchRecords({ store, clock: () => now }, undefined, undefined, 20);
    expect(page).not.toHaveProperty('cursor');
  });

  it('a pending invitation past its expiry reads Expired at the clock of the request', async () => {
    const { store } = storeWith([rec('P-1', { invite: { status: 'Pending', expiresAt: '2026-11-21T09:59:59.999Z' } })]);
    const page = await searchRecords({ store, clock: () => now }, undefined, undefined, 20);
    expect(page.items[0]!.invite.status).toBe('Expired');
  });

  it('registeredSince: only records registered at or after it (normalised to ISO); none without a registration time', async () => {
    const { store, asked } = storeWith([
      rec('P-1', { registeredAt: '2026-11-20T00:00:00.000Z' }),
      rec('P-2', { registeredAt: '2026-11-19T23:59:59.999Z' }),
      rec('P-3'),
      rec('P-4', { registeredAt: '2026-11-21T08:00:00.000Z' }),
    ]);
    const page = await searchRecords({ store, clock: () => now }, undefined, undefined, 20, '2026-11-20T01:00:00+01:00');
    expect(page.items.map((r) => r.patientId)).toEqual(['P-1', 'P-4']);
    // The store is asked for the same window (the DynamoDB adapter filters there), in ISO form.
    expect(asked).toEqual([{ filter: { registeredSince: '2026-11-20T00:00:00.000Z' } }]);
  });

  it('without registeredSince every record is answered, registered or not, and no window is asked for', async () => {
    const { store, asked } = storeWith([rec('P-1', { registeredAt: '2020-01-01T00:00:00.000Z' }), rec('P-2')]);
    const page = await searchRecords({ store, clock: () => now }, undefined, undefined, 20);
    expect(page.items.map((r) => r.patientId)).toEqual(['P-1', 'P-2']);
    expect(asked).toEqual([{}]);
  });
});

describe('issue 19: registeredAt is set once, when the first login is made', () => {
  it('a record with no login and no registration time gets one; one that had either keeps what it has', () => {
    expect(firstLoginStamp(rec('P-1'), now)).toEqual({ registeredAt: now.toISOString() });
    expect(firstLoginStamp(rec('P-1', { accountId: 'acc-1' }), now)).toEqual({});
    expect(firstLoginStamp(rec('P-1', { registeredAt: '2026-01-01T00:00:00.000Z' }), now)).toEqual({});
  });
});
