/**
 * Mutation-testing rules for the lobby token check of lambdas/domain/lobby.ts (issue 20): a lobby
 * token opens its session only while it is unexpired, of scope intake, and its record is enabled
 * at the session's generation (rule 17, exact). Through checkLobbyToken and the public hash.
 */
import { describe, expect, it } from 'vitest';
import { checkLobbyToken, hashLobbyToken, type LobbyStore, type StoredLobbySession } from '../../../lambdas/domain/lobby.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { opaqueToken } from '../../../lambdas/domain/secrets.ts';
import { memoryStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-21T10:00:00.000Z');

function setup(session: Partial<StoredLobbySession> = {}, record: Partial<StoredRecord> = {}) {
  const mem = memoryStore();
  const token = opaqueToken();
  const stored: StoredLobbySession = {
    tokenHash: hashLobbyToken(token),
    patientId: 'P-1',
    scope: 'intake',
    createdAt: now.toISOString(),
    expiresAt: '2026-11-21T10:30:00.000Z',
    generation: 0,
    ...session,
  };
  const lobby = { getSession: async (hash: string) => (hash === stored.tokenHash ? stored : undefined) } as unknown as LobbyStore;
  mem.docs.set('patient:P-1', { value: { ...newRecord('P-1', now), version: 1, ...record }, version: 1 });
  const check = (t = token, at = now) => checkLobbyToken({ store: mem.store, lobby, clock: () => at }, t);
  return { token, check, stored };
}

describe('rule 17: a lobby token', () => {
  it('opens its session: patient, scope, expiry and the token hash (never the token)', async () => {
    const { check, stored, token } = setup();
    const grant = await check();
    expect(grant).toEqual({ patientId: 'P-1', scope: 'intake', expiresAt: stored.expiresAt, tokenHash: stored.tokenHash });
    expect(JSON.stringify(grant)).not.toContain(token);
  });

  it('of another shape (not 43 base64url characters) is refused before any read', async () => {
    const { check, token } = setup();
    for (const t of [token.slice(1), `${token}A`, `${token.slice(0, 42)}=`, `${token.slice(0, 42)}+`, '', ` ${token.slice(1)}`]) expect(await check(t), t).toBeUndefined();
  });

  it('is dead from the very ms of its expiry', async () => {
    const { check } = setup();
    expect(await check(undefined, new Date('2026-11-21T10:29:59.999Z'))).toBeDefined();
    expect(await check(undefined, new Date('2026-11-21T10:30:00.000Z'))).toBeUndefined();
  });

  it('of another scope, an unknown token, a disabled or missing record, or another generation: refused', async () => {
    expect(await setup({ scope: 'staff' as never }).check()).toBeUndefined();
    expect(await setup().check(opaqueToken())).toBeUndefined();
    expect(await setup({}, { accessEnabled: false }).check()).toBeUndefined();
    expect(await setup({ patientId: 'P-2' }).check()).toBeUndefined();
    expect(await setup({ generation: 0 }, { linkGeneration: 1 }).check()).toBeUndefined();
    expect(await setup({ generation: undefined }).check()).toBeUndefined();
    expect(await setup({ generation: 2 }, { linkGeneration: 2 }).check()).toBeDefined();
  });
});
