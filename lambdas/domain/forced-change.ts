/**
 * POST /portal/forced-credential-change (admin): every registered patient must choose a new
 * password at the next sign-in. Each registered record gets `login.mustChangePassword = true`
 * (no expiry: unlike a temporary password, the current one keeps working for that one sign-in),
 * which patient-sign-in.ts turns into NEW_PASSWORD_REQUIRED, and the record's generation is bumped
 * (rule 17): every token and lobby session of the patient is refused at once and stays refused
 * after the new password is chosen (only "must change" would let them live again then).
 *
 * Scale: records are paged through the byPatientId index (100 a page) and marked 25 at a time,
 * each a conditional write with its own audit entry; a run stops at a time budget well inside
 * the function's 10 s timeout and keeps its place (the page cursor) in a job item. The answer
 * says whether the run is complete; a POST while a run is incomplete continues that run from
 * its cursor instead of starting again. Marking is idempotent (a record already marked is left
 * as it is, keeping any temporary-password expiry), so a page done twice after a crash does no
 * harm. At ~5,000-10,000 records per invocation, 100k records take 10-20 invocations; see the
 * report of issue 4 for the self-invoking continuation that would make that hands-off.
 */
import { randomUUID } from 'node:crypto';
import { auditEvent, patientTarget, type Actor } from './audit.ts';
import { DomainError, retryOnConflict } from './errors.ts';
import { revokeSessionsAndLinks, type StoredRecord } from './portal-record.ts';
import type { Clock, RecordStore } from './ports.ts';

export interface ForcedChangeJob {
  jobId: string;
  status: 'Running' | 'Done';
  /** Where the next page starts; absent at the start. */
  cursor?: string;
  /** Registered patients who must now change their password, so far. */
  count: number;
  startedAt: string;
  startedBy: string;
  updatedAt: string;
  version: number;
}

export interface ForcedChangeJobStore {
  getJob(): Promise<ForcedChangeJob | undefined>;
  /** Conditional on the version read (0: must not exist yet); throws `version-conflict`. */
  saveJob(job: ForcedChangeJob, expectedVersion: number): Promise<void>;
}

export interface ForcedChangeDeps {
  store: RecordStore;
  jobs: ForcedChangeJobStore;
  clock: Clock;
  /** Stop taking new pages after this long (default 6 s of the function's 10 s). */
  budgetMs?: number;
  pageSize?: number;
  parallel?: number;
  /** Real elapsed time, for the budget (not the test clock). */
  elapsedMs?: () => number;
}

export const FORCED_CHANGE_TARGET = 'portal';

/** One registered record marked; false when it needs nothing (not registered, or already marked). */
async function mark(deps: ForcedChangeDeps, actor: Actor, jobId: string, listed: StoredRecord): Promise<boolean> {
  let record: StoredRecord | undefined = listed;
  let first = true;
  return retryOnConflict(async () => {
    // The index is eventually consistent: after a lost race, read the record itself.
    if (!first) record = await deps.store.getRecord(listed.patientId);
    first = false;
    if (!record?.accountId || record.registration === 'NotRegistered') return false;
    if (record.login?.mustChangePassword) return true;
    const now = deps.clock();
    const next: StoredRecord = {
      ...record,
      login: { mustChangePassword: true },
      ...revokeSessionsAndLinks(record, now.toISOString()),
      updatedAt: now.toISOString(),
      version: record.version + 1,
    };
    await deps.store.saveRecord(next, record.version, auditEvent(actor, patientTarget(record.patientId), 'patient.forced-credential-change', now, { jobId }));
    return true;
  });
}

async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return out;
}

export async function forceCredentialChange(deps: ForcedChangeDeps, actor: Actor): Promise<{ count: number; complete: boolean; jobId: string }> {
  const started = performance.now();
  const elapsed = deps.elapsedMs ?? (() => performance.now() - started);
  const budget = deps.budgetMs ?? 6_000;
  const pageSize = deps.pageSize ?? 100;
  const parallel = deps.parallel ?? 25;

  // A run that is still incomplete is continued; otherwise a new run starts from the first page.
  let job = await retryOnConflict(async () => {
    const current = await deps.jobs.getJob();
    if (current?.status === 'Running') return current;
    const now = deps.clock();
    const fresh: ForcedChangeJob = {
      jobId: randomUUID(),
      status: 'Running',
      count: 0,
      startedAt: now.toISOString(),
      startedBy: actor.id,
      updatedAt: now.toISOString(),
      version: (current?.version ?? 0) + 1,
    };
    await deps.jobs.saveJob(fresh, current?.version ?? 0);
    await deps.store.appendAudit(auditEvent(actor, FORCED_CHANGE_TARGET, 'portal.forced-credential-change.started', now, { jobId: fresh.jobId }));
    return fresh;
  });

  do {
    const page = await deps.store.searchRecords(undefined, job.cursor, pageSize);
    const marked = (await inBatches(page.items, parallel, (r) => mark(deps, actor, job.jobId, r))).filter(Boolean).length;
    const now = deps.clock();
    const next: ForcedChangeJob = {
      ...job,
      count: job.count + marked,
      status: page.cursor ? 'Running' : 'Done',
      updatedAt: now.toISOString(),
      version: job.version + 1,
    };
    if (page.cursor) next.cursor = page.cursor;
    else delete next.cursor;
    try {
      await deps.jobs.saveJob(next, job.version);
    } catch (err) {
      // Another POST is running the same job: leave the rest to it.
      if (err instanceof DomainError && err.code === 'version-conflict') {
        return { count: next.count, complete: false, jobId: job.jobId };
      }
      throw err;
    }
    job = next;
    if (job.status === 'Done') {
      await deps.store.appendAudit(
        auditEvent(actor, FORCED_CHANGE_TARGET, 'portal.forced-credential-change.completed', now, { jobId: job.jobId, count: job.count }),
      );
    }
  } while (job.status === 'Running' && elapsed() < budget);

  return { count: job.count, complete: job.status === 'Done', jobId: job.jobId };
}

