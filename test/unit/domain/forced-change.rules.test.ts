/**
 * POST /portal/forced-credential-change on fakes (rule 17: a forced change ends every session of
 * each registered patient; issue 4: a run is time-bounded and resumable). Outcomes only: what each
 * record holds afterwards, what the job holds, what was audited, what the answer says.
 */
import { describe, expect, it } from 'vitest';
import { DomainError, versionConflict } from '../../../lambdas/domain/errors.ts';
import {
  FORCED_CHANGE_TARGET,
  forceCredentialChange,
  type ForcedChangeDeps,
  type ForcedChangeJob,
  type ForcedChangeJobStore,
} from '../../../lambdas/domain/forced-change.ts';
import { sessionStillLive, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { memoryStore } from '../../support/memory-store.ts';

const admin = { id: 'boss', sourceIp: '203.0.113.1' };
const t0 = new Date('2026-11-21T10:00:00.000Z');

function jobs(): ForcedChangeJobStore & { job?: ForcedChangeJob; saved: ForcedChangeJob[] } {
  const s: ForcedChangeJobStore & { job?: ForcedChangeJob; saved: ForcedChangeJob[] } = {
    saved: [],
    async getJob() {
      return s.job ? structuredClone(s.job) : undefined;
    },
    async saveJob(job, expected) {
      if ((s.job?.version ?? 0) !== expected) throw versionConflict();
      s.job = structuredClone(job);
      s.saved.push(structuredClone(job));
    },
  };
  return s;
}

function harness(count = 0) {
  const mem = memoryStore();
  let now = t0;
  const seed = (patientId: string, over: Partial<StoredRecord> = {}) => {
    const record: StoredRecord = {
      patientId,
      accountId: `acc-${patientId}`,
      username: `user-${patientId.toLowerCase()}`,
      email: `${patientId.toLowerCase()}@example.test`,
      accessEnabled: true,
      cases: [],
      registration: 'NormalRegistration',
      invite: { status: 'Accepted' },
      createdAt: t0.toISOString(),
      updatedAt: t0.toISOString(),
      version: 3,
      linkGeneration: 7,
      ...over,
    };
    mem.docs.set(`patient:${patientId}`, { value: record, version: record.version });
    return record;
  };
  for (let i = 0; i < count; i++) seed(`P-${String(i).padStart(3, '0')}`);
  const all = () =>
    [...mem.docs.entries()]
      .filter(([k]) => k.startsWith('patient:'))
      .map(([, d]) => d.value as StoredRecord)
      .sort((a, b) => a.patientId.localeCompare(b.patientId));
  // Pages through the records in patientId order, honouring the limit, like the byPatientId index.
  mem.store.searchRecords = async (_q, cursor, limit) => {
    const start = cursor ? Number(cursor) : 0;
    const items = all().slice(start, start + (limit ?? 100));
    return { items, ...(start + (limit ?? 100) < all().length ? { cursor: String(start + (limit ?? 100)) } : {}) };
  };
  const store = jobs();
  const deps: ForcedChangeDeps = { store: mem.store, jobs: store, clock: () => now };
  const record = (id: string) => mem.docs.get(`patient:${id}`)!.value as StoredRecord;
  const marked = () => all().filter((r) => r.login?.mustChangePassword).length;
  return { mem, seed, all, store, deps, record, marked, setNow: (d: Date) => (now = d) };
}

describe('rule 17: each registered record must change its password and loses every session', () => {
  it('marks a registered record: must change, generation bumped, sessions refused, one audit entry naming the job', async () => {
    const h = harness();
    h.seed('P-1', { login: { temporaryPasswordExpiresAt: '2026-11-20T10:00:00.000Z' } });
    const later = new Date('2026-11-22T08:30:00.000Z');
    h.setNow(later);
    const run = await forceCredentialChange(h.deps, admin);
    expect(run).toEqual({ count: 1, complete: true, jobId: expect.any(String) });
    const after = h.record('P-1');
    expect(after.login).toEqual({ mustChangePassword: true });
    expect(after.linkGeneration).toBe(8);
    expect(sessionStillLive(7, after)).toBe(false);
    expect(after.revokedAt).toBe(later.toISOString());
    expect(after.updatedAt).toBe(later.toISOString());
    expect(after.version).toBe(4);
    expect(h.mem.docs.get('patient:P-1')!.version).toBe(4);
    const entries = h.mem.audit.filter((a) => a.action === 'patient.forced-credential-change');
    expect(entries).toEqual([
      { target: 'patient:P-1', at: later.toISOString(), actor: 'boss', action: 'patient.forced-credential-change', outcome: 'success', sourceIp: '203.0.113.1', detail: { jobId: run.jobId } },
    ]);
  });

  it('leaves a record without a login alone, and one whose registration is Not Registered even with an account id', async () => {
    const h = harness();
    h.seed('P-1', { accountId: undefined, registration: 'NormalRegistration' });
    h.seed('P-2', { registration: 'NotRegistered' });
    h.seed('P-3');
    const run = await forceCredentialChange(h.deps, admin);
    expect(run.count).toBe(1);
    expect(h.record('P-1').login).toBeUndefined();
    expect(h.record('P-1').linkGeneration).toBe(7);
    expect(h.record('P-2').login).toBeUndefined();
    expect(h.record('P-2').linkGeneration).toBe(7);
    expect(h.record('P-3').login?.mustChangePassword).toBe(true);
    expect(h.mem.audit.filter((a) => a.action === 'patient.forced-credential-change').map((a) => a.target)).toEqual(['patient:P-3']);
  });

  it('counts a record already marked but does not write it again (its temporary-password expiry and generation stay)', async () => {
    const h = harness();
    h.seed('P-1', { login: { mustChangePassword: true, temporaryPasswordExpiresAt: '2026-11-24T10:00:00.000Z' } });
    h.seed('P-2', { login: { mustChangePassword: false } });
    const run = await forceCredentialChange(h.deps, admin);
    expect(run.count).toBe(2);
    expect(h.record('P-1')).toMatchObject({ version: 3, linkGeneration: 7, login: { mustChangePassword: true, temporaryPasswordExpiresAt: '2026-11-24T10:00:00.000Z' } });
    expect(h.record('P-2')).toMatchObject({ version: 4, linkGeneration: 8, login: { mustChangePassword: true } });
    expect(h.mem.audit.filter((a) => a.action === 'patient.forced-credential-change').map((a) => a.target)).toEqual(['patient:P-2']);
  });

  it('after losing a race to another writer, marks the record as that writer left it (the listed copy is stale)', async () => {
    const h = harness();
    h.seed('P-1');
    let raced = false;
    h.mem.onBeforeSave(() => {
      if (raced) return;
      raced = true;
      const doc = h.mem.docs.get('patient:P-1')!;
      const current = doc.value as StoredRecord;
      doc.value = { ...current, email: 'new@example.test', version: current.version + 1 };
      doc.version = current.version + 1;
    });
    const run = await forceCredentialChange(h.deps, admin);
    expect(run.count).toBe(1);
    expect(h.record('P-1')).toMatchObject({ email: 'new@example.test', version: 5, linkGeneration: 8, login: { mustChangePassword: true } });
  });

  it('the listing decides who is in the run: a login made after its page was listed (a fresh password) is not forced', async () => {
    const h = harness();
    h.seed('P-1', { accountId: undefined, registration: 'NotRegistered' });
    h.seed('P-2');
    const search = h.mem.store.searchRecords;
    h.mem.store.searchRecords = async (...args) => {
      const page = await search(...args);
      // P-1 registers (choosing its own password) just after the page was read.
      const doc = h.mem.docs.get('patient:P-1')!;
      doc.value = { ...(doc.value as StoredRecord), accountId: 'acc-P-1', registration: 'NormalRegistration', version: 4 };
      doc.version = 4;
      return page;
    };
    const run = await forceCredentialChange(h.deps, admin);
    expect(run.count).toBe(1);
    expect(h.record('P-1')).toMatchObject({ registration: 'NormalRegistration', version: 4, linkGeneration: 7 });
    expect(h.record('P-1').login).toBeUndefined();
    expect(h.record('P-2').login?.mustChangePassword).toBe(true);
  });

  it('a record removed or unregistered after it was listed is not marked nor counted', async () => {
    const h = harness();
    h.seed('P-1');
    h.seed('P-2');
    const removed = new Set<string>();
    h.mem.onBeforeSave(() => {
      for (const id of ['P-1', 'P-2']) {
        if (removed.has(id)) continue;
        removed.add(id);
        const doc = h.mem.docs.get(`patient:${id}`)!;
        if (id === 'P-1') h.mem.docs.delete(`patient:${id}`);
        else doc.value = { ...(doc.value as StoredRecord), accountId: undefined, registration: 'NotRegistered', version: 4 };
        if (id === 'P-2') doc.version = 4;
        return;
      }
    });
    const run = await forceCredentialChange(h.deps, admin);
    expect(run).toMatchObject({ count: 0, complete: true });
    expect(h.mem.docs.has('patient:P-1')).toBe(false);
    expect(h.record('P-2').login).toBeUndefined();
    expect(h.mem.audit.filter((a) => a.action === 'patient.forced-credential-change')).toEqual([]);
  });
});

describe('issue 4: the job keeps its place, one run at a time', () => {
  it('a first run starts a job (audited with its id), pages to the end and records it as done with no cursor', async () => {
    const h = harness(5);
    const run = await forceCredentialChange({ ...h.deps, pageSize: 2 }, admin);
    expect(run).toEqual({ count: 5, complete: true, jobId: expect.any(String) });
    expect(h.marked()).toBe(5);
    // Done: no cursor at all (not a cursor set to undefined, which DynamoDB's marshalling refuses).
    expect(h.store.job).toStrictEqual({
      jobId: run.jobId,
      status: 'Done',
      count: 5,
      startedAt: t0.toISOString(),
      startedBy: 'boss',
      updatedAt: t0.toISOString(),
      version: 4,
    });
    expect(h.store.saved.map((j) => [j.status, j.cursor, j.count])).toEqual([
      ['Running', undefined, 0],
      ['Running', '2', 2],
      ['Running', '4', 4],
      ['Done', undefined, 5],
    ]);
    const portal = h.mem.audit.filter((a) => a.target === FORCED_CHANGE_TARGET);
    expect(portal).toEqual([
      { target: 'portal', at: t0.toISOString(), actor: 'boss', action: 'portal.forced-credential-change.started', outcome: 'success', sourceIp: '203.0.113.1', detail: { jobId: run.jobId } },
      { target: 'portal', at: t0.toISOString(), actor: 'boss', action: 'portal.forced-credential-change.completed', outcome: 'success', sourceIp: '203.0.113.1', detail: { jobId: run.jobId, count: 5 } },
    ]);
  });

  it('a POST after a finished run starts a new job from the first page (new id, version after the old)', async () => {
    const h = harness(3);
    const first = await forceCredentialChange(h.deps, admin);
    // Everyone chose a new password since: the flag is gone.
    for (const r of h.all()) h.mem.docs.get(`patient:${r.patientId}`)!.value = { ...r, login: undefined };
    h.setNow(new Date('2026-12-01T09:00:00.000Z'));
    const second = await forceCredentialChange(h.deps, { id: 'other-admin', sourceIp: '198.51.100.7' });
    expect(second).toEqual({ count: 3, complete: true, jobId: expect.any(String) });
    expect(second.jobId).not.toBe(first.jobId);
    expect(h.store.job).toMatchObject({ jobId: second.jobId, status: 'Done', startedBy: 'other-admin', startedAt: '2026-12-01T09:00:00.000Z', count: 3 });
    expect(h.mem.audit.filter((a) => a.action === 'portal.forced-credential-change.started').map((a) => a.detail.jobId)).toEqual([first.jobId, second.jobId]);
  });

  it('stops at its time budget and says incomplete; the next POST continues the same job from its cursor', async () => {
    const h = harness(5);
    let elapsed = 0;
    const deps = { ...h.deps, pageSize: 2, budgetMs: 10, elapsedMs: () => elapsed };
    elapsed = 10; // the budget is spent after the first page: exactly at the budget is over
    const first = await forceCredentialChange(deps, admin);
    expect(first).toEqual({ count: 2, complete: false, jobId: expect.any(String) });
    expect(h.marked()).toBe(2);
    expect(h.store.job).toMatchObject({ status: 'Running', cursor: '2', count: 2 });
    expect(h.mem.audit.filter((a) => a.action === 'portal.forced-credential-change.completed')).toEqual([]);
    elapsed = 9; // just inside the budget: keeps paging to the end
    const second = await forceCredentialChange(deps, admin);
    expect(second).toEqual({ count: 5, complete: true, jobId: first.jobId });
    expect(h.mem.audit.filter((a) => a.action === 'portal.forced-credential-change.started')).toHaveLength(1);
    expect(h.mem.audit.filter((a) => a.action === 'portal.forced-credential-change.completed')).toHaveLength(1);
  });

  it('by default takes pages of 100 and stops after 6 s of real time, not before', async () => {
    const h = harness(150);
    let elapsed = 6_000;
    const stopped = await forceCredentialChange({ ...h.deps, elapsedMs: () => elapsed }, admin);
    expect(stopped).toMatchObject({ count: 100, complete: false });
    elapsed = 5_999;
    const h2 = harness(250);
    const finished = await forceCredentialChange({ ...h2.deps, elapsedMs: () => elapsed }, admin);
    expect(finished).toMatchObject({ count: 250, complete: true });
  });

  it('without a test clock for the budget, a quick run finishes every page in one POST', async () => {
    const h = harness(7);
    const run = await forceCredentialChange({ ...h.deps, pageSize: 2 }, admin);
    expect(run).toMatchObject({ count: 7, complete: true });
    expect(h.marked()).toBe(7);
  });

  it('marks at most 25 records at once by default (each its own conditional write)', async () => {
    const h = harness(60);
    let inFlight = 0;
    let most = 0;
    const save = h.mem.store.saveRecord;
    h.mem.store.saveRecord = async (...args) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return save(...args);
    };
    const run = await forceCredentialChange(h.deps, admin);
    expect(run).toMatchObject({ count: 60, complete: true });
    expect(most).toBe(25);
  });

  it('another POST that saved the job first wins: this one stops, incomplete, and leaves the rest to it', async () => {
    const h = harness(4);
    const save = h.store.saveJob;
    let n = 0;
    h.store.saveJob = async (job, expected) => {
      n++;
      // The concurrent run saves its progress just before this run's first page is saved.
      if (n === 2) h.store.job = { ...h.store.job!, version: h.store.job!.version + 1, count: 99 };
      return save(job, expected);
    };
    const run = await forceCredentialChange({ ...h.deps, pageSize: 2 }, admin);
    expect(run).toMatchObject({ count: 2, complete: false });
    expect(h.store.job).toMatchObject({ count: 99, status: 'Running' });
    expect(h.mem.audit.filter((a) => a.action === 'portal.forced-credential-change.completed')).toEqual([]);
  });

  it('any other failure saving the job is not swallowed', async () => {
    const h = harness(2);
    const save = h.store.saveJob;
    let n = 0;
    h.store.saveJob = async (job, expected) => {
      if (++n === 2) throw new DomainError('conflict', 'other', 'something else');
      return save(job, expected);
    };
    await expect(forceCredentialChange(h.deps, admin)).rejects.toMatchObject({ code: 'other' });
    const h2 = harness(2);
    let m = 0;
    const save2 = h2.store.saveJob;
    h2.store.saveJob = async (job, expected) => {
      if (++m === 2) throw new Error('table gone');
      return save2(job, expected);
    };
    await expect(forceCredentialChange(h2.deps, admin)).rejects.toThrow('table gone');
  });

  it('two POSTs that both find no running job: the loser of the start race joins the winner’s job', async () => {
    const h = harness(3);
    const save = h.store.saveJob;
    let n = 0;
    let winner: ForcedChangeJob | undefined;
    h.store.saveJob = async (job, expected) => {
      if (++n === 1) {
        winner = { jobId: 'winner', status: 'Running', count: 0, startedAt: t0.toISOString(), startedBy: 'other', updatedAt: t0.toISOString(), version: 1 };
        h.store.job = winner;
      }
      return save(job, expected);
    };
    const run = await forceCredentialChange(h.deps, admin);
    expect(run).toMatchObject({ jobId: 'winner', count: 3, complete: true });
    expect(h.mem.audit.filter((a) => a.action === 'portal.forced-credential-change.started')).toEqual([]);
  });
});
