/**
 * The credential-reset domain on fakes: the PIN hash, the request's equal work, the try
 * reservation under concurrency, failure-safety (rule 24) and the forced change's paging.
 */
import { describe, expect, it } from 'vitest';
import { DomainError, versionConflict } from '../../../lambdas/domain/errors.ts';
import { forceCredentialChange, type ForcedChangeJob, type ForcedChangeJobStore } from '../../../lambdas/domain/forced-change.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink, PatientLogins } from '../../../lambdas/domain/ports.ts';
import { revokeAccess, type PatientAccessDeps } from '../../../lambdas/domain/patient-access.ts';
import { confirmReset, MAX_RESET_FAILURES, requestReset, resetPolicy, staffReset, type ResetConfirmDeps, type ResetData } from '../../../lambdas/domain/resets.ts';
import { hashPin, sha256, verifyPinHash } from '../../../lambdas/domain/secrets.ts';
import { memoryLinks } from '../../support/memory-links.ts';
import { memoryMailer, memoryThrottle, outage } from '../../support/memory-invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { outcome } from '../../support/domain-outcome.ts';

const practice = { practiceName: 'Maple Clinic', portalUrl: 'https://portal.maple.test/' };
const good = 'lantern orchard pebble violin';
const newPassword = 'quartz meadow harbor kettle';

function harness() {
  const mem = memoryStore();
  const usernames = new Map<string, AccountLink>();
  const resets = memoryLinks<ResetData>(mem, usernames, resetPolicy);
  const mail = memoryMailer();
  const passwords = new Map<string, string>();
  const calls: string[] = [];
  const failLogins = new Set<string>();
  const logins: Pick<PatientLogins, 'setPassword' | 'signOutEverywhere'> = {
    async setPassword(id, password) {
      calls.push('setPassword');
      if (failLogins.delete('setPassword')) throw outage('InternalErrorException');
      passwords.set(id, password);
    },
    async signOutEverywhere() {
      calls.push('signOutEverywhere');
    },
  };
  let now = new Date('2026-11-21T10:00:00.000Z');
  const throttle = memoryThrottle();
  const deps: ResetConfirmDeps = {
    store: mem.store,
    accounts: { findByUsername: async (u) => usernames.get(u.trim().toLowerCase()) },
    resets: resets.store,
    logins,
    throttle,
    mailer: mail.mailer,
    clock: () => now,
    settingsDefaults: practice,
  };
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
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      version: 1,
      ...over,
    };
    mem.docs.set(`patient:${patientId}`, { value: record, version: record.version });
    if (record.username && record.accountId) usernames.set(record.username.toLowerCase(), { accountId: record.accountId, patientId });
    return record;
  };
  const lastMail = () => {
    const text = mail.sent.at(-1)?.text ?? '';
    return { token: /#token=([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '', pin: /PIN: ([A-Z0-9]{6})/.exec(text)?.[1] ?? '' };
  };
  return { mem, resets, mail, deps, seed, lastMail, calls, passwords, failLogins, usernames, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}


describe('rule 10: the reset PIN is stored only as a salted scrypt hash', () => {
  it('matches the PIN in any case and with spaces, not another PIN; two hashes of one PIN differ (salt)', async () => {
    const [a, b] = [await hashPin('K7MX4R'), await hashPin('K7MX4R')];
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toContain('K7MX4R');
    expect(a).not.toBe(b);
    expect(await verifyPinHash('k7mx 4r', a)).toBe(true);
    expect(await verifyPinHash('K7MX4S', a)).toBe(false);
    expect(await verifyPinHash('K7MX4R', 'garbage')).toBe(false);
  });

  it('rule 9: the stored reset holds neither the token nor the PIN, only their hashes', async () => {
    const h = harness();
    h.seed('P-1');
    await requestReset(h.deps, { username: 'user-p-1', sourceIp: '198.51.100.1' });
    const { token, pin } = h.lastMail();
    const stored = JSON.stringify([...h.resets.states.values(), ...h.resets.pointers.values()]);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(pin);
    expect(h.resets.pointers.has(sha256(token))).toBe(true);
  });
});

describe('requesting', () => {
  it('reads the reset once per request (npm run bench: no repeated read); a conflict still re-reads', async () => {
    const h = harness();
    h.seed('P-1');
    const getReset = h.deps.resets.get.bind(h.deps.resets);
    let reads = 0;
    h.deps.resets.get = async (id) => {
      reads += 1;
      return getReset(id);
    };
    await requestReset(h.deps, { username: 'user-p-1', sourceIp: '198.51.100.1' });
    expect(reads).toBe(1);
    expect(h.mail.sent).toHaveLength(1);
    // Another request commits between this request's read and its write: the retry reads afresh.
    const issue = h.deps.resets.write.bind(h.deps.resets);
    let raced = false;
    h.deps.resets.write = async (change) => {
      if (!raced) {
        raced = true;
        await staffReset(h.deps, { id: 'staff:s-1', sourceIp: '10.0.0.1' }, 'P-1');
      }
      return issue(change);
    };
    reads = 0;
    await requestReset(h.deps, { username: 'user-p-1', sourceIp: '198.51.100.1' });
    // This request's first read, the staff reset's read, and this request's fresh read on retry.
    expect(reads).toBe(3);
    expect(h.mail.sent).toHaveLength(3);
    expect(h.resets.states.get('P-1')!.data!.sentAt).toHaveLength(3);
  });

  it('rules 8 and 14: the record is untouched; the link comes from the configured portal URL', async () => {
    const h = harness();
    h.seed('P-1');
    await requestReset(h.deps, { username: 'USER-P-1', sourceIp: '198.51.100.1' });
    expect(h.mem.docs.get('patient:P-1')!.version).toBe(1);
    expect(h.mail.sent.at(-1)!.text).toContain('https://portal.maple.test/portal/reset#token=');
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'reset.requested', outcome: 'success', target: 'patient:P-1' });
    expect(JSON.stringify(h.mem.audit)).not.toContain('user-p-1');
  });

  it('rule 13: unknown, disabled, unregistered and email-less accounts send nothing and do not throw', async () => {
    const h = harness();
    h.seed('P-2', { accessEnabled: false });
    h.seed('P-3', { email: undefined });
    h.seed('P-4', { registration: 'NotRegistered' });
    for (const username of ['nobody', 'user-p-2', 'user-p-3', 'user-p-4']) {
      expect(await outcome(requestReset(h.deps, { username, sourceIp: '198.51.100.1' })), username).toBe('ok');
    }
    expect(h.mail.sent).toHaveLength(0);
    expect(h.resets.states.size).toBe(0);
    expect(h.mem.audit.map((a) => a.detail.reason)).toEqual(['access-disabled', 'no-email', 'not-registered']);
  });

  it('staff: 404, 409 not registered, 409 disabled, 422 no email; otherwise the email and "Sent"', async () => {
    const h = harness();
    const staff = { id: 'frontdesk', sourceIp: '203.0.113.7' };
    h.seed('P-4', { registration: 'NotRegistered', accountId: undefined });
    h.seed('P-5', { accessEnabled: false });
    h.seed('P-6', { email: undefined });
    h.seed('P-7');
    expect(await outcome(staffReset(h.deps, staff, 'P-0'))).toBe('not-found:not-found');
    expect(await outcome(staffReset(h.deps, staff, 'P-4'))).toBe('conflict:not-registered');
    expect(await outcome(staffReset(h.deps, staff, 'P-5'))).toBe('conflict:access-disabled');
    expect(await outcome(staffReset(h.deps, staff, 'P-6'))).toBe('unprocessable:no-email');
    expect((await staffReset(h.deps, staff, 'P-7')).delivery).toBe('Sent');
    h.mail.fail(true);
    expect((await staffReset(h.deps, staff, 'P-7')).delivery).toBe('Failed');
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'reset.email-failed', outcome: 'failure' });
  });
});

describe('confirming', () => {
  async function requested(h = harness()) {
    h.seed('P-1');
    await requestReset(h.deps, { username: 'user-p-1', sourceIp: '198.51.100.1' });
    const { token, pin } = h.lastMail();
    return { h, attempt: { token, pin, username: 'user-p-1', newPassword, sourceIp: '198.51.100.1' } };
  }

  it('rule 15: sets the password, signs out, stamps revokedAt, clears "must change", kills the link and emails a notice without secrets', async () => {
    const { h, attempt } = await requested();
    h.mem.docs.get('patient:P-1')!.value = { ...(h.mem.docs.get('patient:P-1')!.value as StoredRecord), login: { mustChangePassword: true } };
    expect(await confirmReset(h.deps, attempt)).toEqual({ message: expect.any(String) });
    expect(h.passwords.get('acc-P-1')).toBe(newPassword);
    expect(h.calls).toEqual(['setPassword', 'signOutEverywhere']);
    const record = h.mem.docs.get('patient:P-1')!.value as StoredRecord;
    expect(record.revokedAt).toBe('2026-11-21T10:00:00.000Z');
    expect(record.login).toBeUndefined();
    expect(h.resets.pointers.size).toBe(0);
    expect(h.resets.states.get('P-1')!.status).toBe('Used');
    const notice = h.mail.sent.at(-1)!;
    expect(notice.subject).toMatch(/credentials were changed/);
    for (const s of [attempt.token, attempt.pin, newPassword, 'user-p-1']) expect(`${notice.text}${notice.html}`).not.toContain(s);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
  });

  it('rule 7: 1000 concurrent wrong guesses get at most 5 PIN checks, then the link is dead', async () => {
    const { h, attempt } = await requested();
    const guess = (i: number) => outcome(confirmReset(h.deps, { ...attempt, pin: `Z${String(i).padStart(5, '2')}` }));
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => guess(i)));
    const wrong = (list: string[]) => list.filter((a) => a === 'unauthorized:wrong-pin-or-username').length;
    // One write takes the lease and the try (issue 16): one check at a time, the rest "in progress".
    expect(wrong(answers)).toBeGreaterThanOrEqual(1);
    expect(wrong(answers)).toBeLessThanOrEqual(MAX_RESET_FAILURES);
    for (const a of answers) expect(['unauthorized:wrong-pin-or-username', 'conflict:reset-in-progress', 'gone:reset-link-gone']).toContain(a);
    // Every check is counted: more waves until the link dies after exactly 5 checks.
    let checked = wrong(answers);
    for (let wave = 1; wave < 50 && checked < MAX_RESET_FAILURES; wave++) {
      checked += wrong(await Promise.all(Array.from({ length: 100 }, (_, i) => guess(wave * 1000 + i))));
    }
    expect(checked).toBe(MAX_RESET_FAILURES);
    expect(h.resets.states.get('P-1')!.failures).toBe(MAX_RESET_FAILURES);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
  });

  it('rule 24: a DynamoDB failure after Cognito set the password: 500-class error, then the same request completes', async () => {
    const { h, attempt } = await requested();
    h.resets.failOnce.add('complete');
    await expect(confirmReset(h.deps, attempt)).rejects.toThrow('backend down');
    expect(h.passwords.get('acc-P-1')).toBe(newPassword);
    expect(h.resets.states.get('P-1')).toMatchObject({ status: 'Pending', tries: 0 });
    expect(h.resets.states.get('P-1')!.lease).toBeUndefined();
    expect(await confirmReset(h.deps, attempt)).toEqual({ message: expect.any(String) });
    expect(h.resets.states.get('P-1')!.status).toBe('Used');
  });

  it('rule 24: a Cognito failure changes nothing and uses no try; the retry completes', async () => {
    const { h, attempt } = await requested();
    h.failLogins.add('setPassword');
    await expect(confirmReset(h.deps, attempt)).rejects.toThrow('backend down');
    expect((h.mem.docs.get('patient:P-1')!.value as StoredRecord).revokedAt).toBeUndefined();
    expect(h.resets.states.get('P-1')).toMatchObject({ status: 'Pending', tries: 0, failures: 0 });
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
  });

  it('rule 3: a weak password is 400 and costs no try; the username must be retyped (it counts like the PIN)', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, newPassword: 'short' }))).toBe('bad-request:validation-error');
    expect(await outcome(confirmReset(h.deps, { ...attempt, username: 'user-p-2' }))).toBe('unauthorized:wrong-pin-or-username');
    expect(h.resets.states.get('P-1')).toMatchObject({ tries: 1, failures: 1 });
  });

  it('rule 27: before link + PIN + username are proven, the password rules say nothing (the username oracle)', async () => {
    const { h, attempt } = await requested();
    const decoys = Array.from({ length: 40 }, (_, i) => `user-p-${100 + i}`);
    const withReal = [...decoys.slice(0, 20), 'user-p-1', ...decoys.slice(20, 39)].join('');
    const answer = async (newPassword: string) => {
      try {
        await confirmReset(h.deps, { ...attempt, pin: 'WRONG1', username: 'user-p-999', newPassword });
        return 'ok';
      } catch (err) {
        return err instanceof DomainError ? JSON.stringify({ kind: err.kind, code: err.code, message: err.message, extra: err.extra }) : String(err);
      }
    };
    const [a, b] = [await answer(decoys.join('')), await answer(withReal)];
    expect(a).toBe(b);
    expect(a).toContain('wrong-pin-or-username');
    // Each used a try, like any other wrong PIN.
    expect(h.resets.states.get('P-1')).toMatchObject({ tries: 2, failures: 2 });
    // A short password with a wrong PIN: the same 401, not a 400 that could be told apart.
    expect(await outcome(confirmReset(h.deps, { ...attempt, pin: 'WRONG1', newPassword: 'short' }))).toBe('unauthorized:wrong-pin-or-username');
  });

  it('rule 27: once link + PIN + username are proven, the password rules answer (and the try is given back)', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, newPassword: `violet harbour ${attempt.username}` }))).toBe('bad-request:validation-error');
    expect(h.resets.states.get('P-1')).toMatchObject({ tries: 0, failures: 0, status: 'Pending' });
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
  });

  it('rule 12: past resetMinutes the link is gone', async () => {
    const { h, attempt } = await requested();
    h.advance(60 * 60_000 + 1);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
  });

  it('rules 17 and 29: a cut-off in the very second the link was issued kills it; an unrelated edit in that second does not (no whole-second tie-break)', async () => {
    // The login was made (revokedAt stamped) in the same second as the request: then staff edit the comment.
    const unrelated = harness();
    unrelated.seed('P-1', { revokedAt: '2026-11-21T10:00:00.000Z' });
    await requestReset(unrelated.deps, { username: 'user-p-1', sourceIp: '198.51.100.1' });
    const doc = unrelated.mem.docs.get('patient:P-1')!;
    doc.value = { ...(doc.value as StoredRecord), comment: 'called', version: doc.version + 1 };
    doc.version += 1;
    const mailed = unrelated.lastMail();
    expect(await outcome(confirmReset(unrelated.deps, { ...mailed, username: 'user-p-1', newPassword, sourceIp: '198.51.100.1' }))).toBe('ok');
    // A revoke in that same second (same revokedAt text) bumps the link generation: the link is dead.
    const revoked = harness();
    revoked.seed('P-1', { revokedAt: '2026-11-21T10:00:00.000Z' });
    await requestReset(revoked.deps, { username: 'user-p-1', sourceIp: '198.51.100.1' });
    const logins = { setEnabled: async () => undefined, signOutEverywhere: async () => undefined } as unknown as PatientLogins;
    await revokeAccess({ store: revoked.mem.store, logins, clock: revoked.deps.clock } as unknown as PatientAccessDeps, { id: 'frontdesk', sourceIp: '203.0.113.1' }, 'P-1');
    const after = revoked.mem.docs.get('patient:P-1')!;
    expect((after.value as StoredRecord).revokedAt).toBe('2026-11-21T10:00:00.000Z'); // the same text as at the issue
    after.value = { ...(after.value as StoredRecord), accessEnabled: true }; // and access on again
    const link = revoked.lastMail();
    expect(await outcome(confirmReset(revoked.deps, { ...link, username: 'user-p-1', newPassword, sourceIp: '198.51.100.1' }))).toBe('gone:reset-link-gone');
  });

  it('rule 9: a token acts only on its own patient; a record whose login was replaced refuses it', async () => {
    const { h, attempt } = await requested();
    h.mem.docs.get('patient:P-1')!.value = { ...(h.mem.docs.get('patient:P-1')!.value as StoredRecord), accountId: 'acc-other' };
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
  });
});

describe('forced credential change', () => {
  function jobs(): ForcedChangeJobStore & { job?: ForcedChangeJob } {
    const s: ForcedChangeJobStore & { job?: ForcedChangeJob } = {
      async getJob() {
        return s.job ? structuredClone(s.job) : undefined;
      },
      async saveJob(job, expected) {
        if ((s.job?.version ?? 0) !== expected) throw versionConflict();
        s.job = structuredClone(job);
      },
    };
    return s;
  }

  it('marks registered records only, keeps a temporary password expiry, resumes across time-bounded runs', async () => {
    const h = harness();
    for (let i = 0; i < 250; i++) h.seed(`F-${String(i).padStart(3, '0')}`, i % 5 === 0 ? { registration: 'NotRegistered', accountId: undefined } : {});
    h.seed('F-900', { registration: 'ForcedRegistration', login: { mustChangePassword: true, temporaryPasswordExpiresAt: '2026-11-24T10:00:00.000Z' } });
    // Pages of 40 through the records, in patientId order, like the byPatientId index.
    const all = () => [...h.mem.docs.entries()].filter(([k]) => k.startsWith('patient:')).map(([, d]) => d.value as StoredRecord).sort((a, b) => a.patientId.localeCompare(b.patientId));
    h.mem.store.searchRecords = async (_q, cursor, limit) => {
      const start = cursor ? Number(cursor) : 0;
      const items = all().slice(start, start + limit);
      return { items, ...(start + limit < all().length ? { cursor: String(start + limit) } : {}) };
    };
    const store = jobs();
    let spent = 0;
    const deps = { store: h.mem.store, jobs: store, clock: h.deps.clock, pageSize: 40, budgetMs: 2, elapsedMs: () => ++spent };
    const admin = { id: 'boss', sourceIp: '203.0.113.1' };
    const firstRun = await forceCredentialChange(deps, admin);
    expect(firstRun.complete).toBe(false);
    let run = firstRun;
    while (!run.complete) run = await forceCredentialChange(deps, admin);
    expect(run.jobId).toBe(firstRun.jobId);
    expect(run.count).toBe(201); // 200 registered + the one already marked
    const records = all();
    expect(records.filter((r) => r.login?.mustChangePassword)).toHaveLength(201);
    expect(records.find((r) => r.patientId === 'F-000')!.login).toBeUndefined();
    expect(records.find((r) => r.patientId === 'F-900')!.login!.temporaryPasswordExpiresAt).toBe('2026-11-24T10:00:00.000Z');
    expect(h.mem.audit.filter((a) => a.action === 'patient.forced-credential-change')).toHaveLength(200);
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'portal.forced-credential-change.completed', actor: 'boss', detail: { count: 201 } });
  });
});
