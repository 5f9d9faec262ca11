/**
 * Mutation-testing rules for lambdas/http/lobby-auth.ts (issue 20): a lobby token opens its
 * stored session while it lives (our clock) and its record allows it (rule 17); unknown, expired
 * and revoked tokens get one 401. The session and record tables are in-memory stand-ins.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { hashLobbyToken, type StoredLobbySession } from '../../../lambdas/domain/lobby.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { authenticateLobby } from '../../../lambdas/http/lobby-auth.ts';
import { HttpProblem } from '../../../lambdas/http/problems.ts';

const sessions = new Map<string, StoredLobbySession>();
const records = new Map<string, StoredRecord>();

vi.mock('../../../lambdas/adapters/deps.ts', async (original) => ({
  ...(await original<typeof import('../../../lambdas/adapters/deps.ts')>()),
  recordStore: () => ({ getRecord: async (id: string) => records.get(id) }),
  systemClock: () => new Date('2026-11-30T12:00:00.000Z'),
}));
vi.mock('../../../lambdas/adapters/dynamo-lobby.ts', () => ({
  dynamoLobby: () => ({ getSession: async (hash: string) => sessions.get(hash) }),
}));

const TOKEN = 'A'.repeat(20) + 'b'.repeat(20) + '_-9';
const session = (change: Partial<StoredLobbySession> = {}): StoredLobbySession => ({
  tokenHash: hashLobbyToken(TOKEN),
  patientId: 'P-1',
  scope: 'intake',
  createdAt: '2026-11-30T11:00:00.000Z',
  expiresAt: '2026-11-30T12:00:00.001Z',
  generation: 2,
  ...change,
});

async function refused(p: Promise<unknown>) {
  const err = await p.then(
    () => expect.unreachable('should be refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpProblem);
  expect((err as HttpProblem).status).toBe(401);
  expect((err as HttpProblem).headers).toEqual({ 'www-authenticate': 'Bearer' });
  return err as HttpProblem;
}

beforeEach(() => {
  sessions.clear();
  records.clear();
  sessions.set(hashLobbyToken(TOKEN), session());
  records.set('P-1', { patientId: 'P-1', accessEnabled: true, linkGeneration: 2 } as StoredRecord);
});

describe('rule 17: a lobby token opens its live session', () => {
  it('a live session of an enabled record at its generation: the lobby principal, scope intake, keyed by the token hash', async () => {
    expect(await authenticateLobby(`Bearer ${TOKEN}`)).toEqual({
      kind: 'lobby',
      patientId: 'P-1',
      scope: 'intake',
      expiresAt: '2026-11-30T12:00:00.001Z',
      tokenHash: hashLobbyToken(TOKEN),
    });
  });

  it('unknown, expired (at its instant, on our clock), access off or revoked: one 401 that sends to the front desk', async () => {
    const cases: (() => void)[] = [
      () => sessions.clear(),
      () => sessions.set(hashLobbyToken(TOKEN), session({ expiresAt: '2026-11-30T12:00:00.000Z' })),
      () => records.set('P-1', { patientId: 'P-1', accessEnabled: false, linkGeneration: 2 } as StoredRecord),
      () => records.set('P-1', { patientId: 'P-1', accessEnabled: true, linkGeneration: 3 } as StoredRecord),
      () => records.clear(),
    ];
    for (const change of cases) {
      beforeEachAgain();
      change();
      const err = await refused(authenticateLobby(`Bearer ${TOKEN}`));
      expect(err.detail).toMatch(/front desk/);
    }
  });

  it('no bearer header, or a staff-like JWT in it: 401', async () => {
    await refused(authenticateLobby(undefined));
    await refused(authenticateLobby('Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'));
  });
});

function beforeEachAgain() {
  sessions.clear();
  records.clear();
  sessions.set(hashLobbyToken(TOKEN), session());
  records.set('P-1', { patientId: 'P-1', accessEnabled: true, linkGeneration: 2 } as StoredRecord);
}
