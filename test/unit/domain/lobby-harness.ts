/** The lobby flow's fakes (lambdas/domain/lobby.ts), shared by lobby.test.ts and lobby.mutants.test.ts. */
import { expect } from 'vitest';
import type { AuditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  checkLobbyToken,
  issueLobbyPassword,
  signInToLobby,
  type LobbySecrets,
  type LobbyStore,
  type StoredLobbyPassword,
  type StoredLobbySession,
} from '../../../lambdas/domain/lobby.ts';
import { applyChange, newRecord, revokeSessionsAndLinks, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { PortalRecordChange } from '../../../lambdas/schemas/portal-record.ts';
import type { ThrottleStore } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryStore } from '../../support/memory-store.ts';

// ------------------------------------------------------------------ fakes

/** A LobbyStore with the adapter's rules: redeem is one atomic check-and-set. */
export function memoryLobby(records: () => Promise<StoredRecord[]>, clearThrottle: (key: string) => void = () => undefined) {
  const passwords = new Map<string, StoredLobbyPassword>();
  const sessions = new Map<string, StoredLobbySession>();
  const audit: AuditEvent[] = [];
  const store: LobbyStore = {
    async patientIdsByMasterCase(masterCase) {
      return (await records()).filter((r) => r.masterCase?.toLowerCase() === masterCase.toLowerCase()).map((r) => r.patientId);
    },
    async getPassword(patientId) {
      const p = passwords.get(patientId);
      return p ? { ...p } : undefined;
    },
    async putPassword(password, event, counter) {
      passwords.set(password.patientId, { ...password });
      audit.push(event);
      clearThrottle(counter);
    },
    async redeem(password, session, now, event) {
      const current = passwords.get(password.patientId);
      if (!current || current.used || current.passwordHash !== password.passwordHash || current.expiresAt <= now.toISOString()) return false;
      current.used = true;
      current.sessionTokenHash = session.tokenHash;
      sessions.set(session.tokenHash, { ...session });
      audit.push(event);
      return true;
    },
    async getSession(tokenHash) {
      return sessions.get(tokenHash);
    },
    async replaySession(password, previous, next, now, event) {
      const current = passwords.get(password.patientId);
      const old = sessions.get(previous.tokenHash);
      if (!current?.used || current.passwordHash !== password.passwordHash || current.sessionTokenHash !== previous.tokenHash || current.expiresAt <= now.toISOString()) return false;
      if (!old || old.idempotencyKeyHash !== previous.idempotencyKeyHash) return false;
      current.sessionTokenHash = next.tokenHash;
      sessions.delete(previous.tokenHash);
      sessions.set(next.tokenHash, { ...next });
      audit.push(event);
      return true;
    },
    async endSession(tokenHash, event) {
      if (!sessions.delete(tokenHash)) return;
      audit.push(event);
    },
  };
  return { store, passwords, sessions, audit };
}

export function memoryThrottle() {
  const accounts = new Map<string, { failures: number; lastFailureAt: number }>();
  const throttle: ThrottleStore = {
    async read(a) {
      const account = accounts.get(a);
      return { ...(account ? { account } : {}), addressFailures: 0 };
    },
    async recordFailure(a, _ip, now) {
      accounts.set(a, { failures: (accounts.get(a)?.failures ?? 0) + 1, lastFailureAt: now.getTime() });
    },
    async clearAccount(a) {
      accounts.delete(a);
    },
    async reserve(a, seen, now) {
      const current = accounts.get(a);
      if (current?.failures !== seen?.failures || current?.lastFailureAt !== seen?.lastFailureAt) return false;
      accounts.set(a, { failures: (current?.failures ?? 0) + 1, lastFailureAt: now.getTime() });
      return true;
    },
    async settle(a, _ip, outcome) {
      if (outcome === 'error') {
        const current = accounts.get(a);
        if (current && current.failures > 1) accounts.set(a, { ...current, failures: current.failures - 1 });
        else accounts.delete(a);
      }
    },
  };
  return { throttle, accounts };
}

let counter = 0;
/** Predictable secrets, so a test knows the password and token it is handed. */
export const fixedSecrets = (password = 'K7MXQ-4RT9W'): LobbySecrets => ({
  lobbyPassword: () => password,
  sessionToken: () => `token-${String(++counter).padStart(37, '0')}`,
  salt: () => 'c2FsdHNhbHRzYWx0c2FsdA',
  hashKey: lobbyKey,
});
export const lobbyKey = Buffer.alloc(32, 7);

export function world(opts: { lobbyMinutes?: number } = {}) {
  const mem = memoryStore();
  const { throttle, accounts } = memoryThrottle();
  const lobby = memoryLobby(async () => (await mem.store.searchRecords(undefined, undefined, 100)).items, (key) => accounts.delete(key));
  let now = new Date('2026-11-21T10:00:00.000Z');
  const clock = () => now;
  const defaults = { practiceName: 'Test Practice', portalUrl: 'https://portal.example.test' };
  const deps = { store: mem.store, lobby: lobby.store, throttle, clock, secrets: fixedSecrets(), defaults };
  const staff = { id: 'frontdesk', sourceIp: '10.0.0.1' };
  const addRecord = async (patientId: string, extra: Partial<StoredRecord> = {}) => {
    const record = { ...newRecord(patientId, now), ...extra, version: 1 };
    await mem.store.saveRecord(record, 0, { target: `patient:${patientId}`, at: now.toISOString(), actor: 'x', action: 'x', outcome: 'success', sourceIp: 'x', detail: {} });
  };
  const edit = async (patientId: string, change: Partial<StoredRecord>) => {
    const current = (await mem.store.getRecord(patientId))!;
    await mem.store.saveRecord({ ...current, ...change, version: current.version + 1 }, current.version, {
      target: `patient:${patientId}`, at: now.toISOString(), actor: 'x', action: 'x', outcome: 'success', sourceIp: 'x', detail: {},
    });
  };
  /** A staff edit through the domain's own rule (access off and an email change bump the generation). */
  const staffEdit = async (patientId: string, change: PortalRecordChange) => edit(patientId, applyChange((await mem.store.getRecord(patientId))!, change, now).next);
  /** What revoke (patient-access.ts) and every credential change do to the record: bump the generation. */
  const revoke = async (patientId: string, accessEnabled = false) =>
    edit(patientId, { accessEnabled, ...revokeSessionsAndLinks((await mem.store.getRecord(patientId))!, now.toISOString()) });
  return {
    mem,
    lobby,
    accounts,
    deps,
    staff,
    addRecord,
    edit,
    staffEdit,
    revoke,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
    setLobbyMinutes: async (minutes: number) => {
      await mem.store.saveSettings({ lobbyMinutes: minutes } as never, 0, { target: 'settings', at: now.toISOString(), actor: 'x', action: 'x', outcome: 'success', sourceIp: 'x', detail: {} });
    },
    issue: (patientId: string, secrets?: LobbySecrets) => issueLobbyPassword({ ...deps, ...(secrets ? { secrets } : {}) }, staff, patientId),
    signIn: (masterCase: string, lobbyPassword: string, sourceIp = '203.0.113.5') => signInToLobby(deps, { masterCase, lobbyPassword, sourceIp }),
    check: (token: string) => checkLobbyToken(deps, token),
    ...opts,
  };
}

export const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
};
