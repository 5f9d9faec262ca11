/**
 * The one-time link life cycle (lambdas/domain/one-time-link.ts) with a test policy, over the
 * real adapter (dynamo-links.ts) and record store on the in-memory DynamoDB: issue, look up,
 * secrets with tries reserved before the compare (rule 5), lock (rule 7), lease, commit, the
 * lost-answer recovery, and every way a link dies (rules 11, 29).
 */
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dynamoLinks } from '../../../lambdas/adapters/dynamo-links.ts';
import { dynamoStore } from '../../../lambdas/adapters/dynamo-store.ts';
import { auditEvent, patientTarget } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  checkSecrets,
  commitHappened,
  deathOf,
  ended,
  leaseAndCommit,
  lookUp,
  newLink,
  type LinkDeps,
  type LinkPolicy,
} from '../../../lambdas/domain/one-time-link.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { digestsEqual, hashPin, sha256, verifyPinHash } from '../../../lambdas/domain/secrets.ts';
import { requireAddressUnderLimit, throttleKeys } from '../../../lambdas/domain/sign-in-throttle.ts';
import type { Settings } from '../../../lambdas/schemas/settings.ts';
import { memoryDynamo, type MemoryDynamo } from '../../support/memory-dynamo.ts';
import { memoryThrottle } from '../../support/memory-throttle.ts';

const err = (kind: ConstructorParameters<typeof DomainError>[0], code: string) => () => new DomainError(kind, code, code);

/** A flow with a hashed PIN and a second, record-checked secret: shows that the secret list is open. */
const policy: LinkPolicy<{ note: string }> = {
  kind: 'invitation',
  lifetimeMs: (s) => s.invitationDays * 24 * 3_600_000,
  secrets: [
    { name: 'pin', matches: async (typed, stored) => stored !== undefined && (await verifyPinHash(typed, stored)) },
    { name: 'word', matches: async (typed, _stored, _state, record) => digestsEqual(typed, record.cases[0] ?? '') },
  ],
  maxFailures: 3,
  leaseSeconds: 30,
  recordAllows: (record) => record.accessEnabled && !record.accountId,
  errors: { gone: err('gone', 'test-gone'), busy: err('conflict', 'test-busy'), wrongSecret: (locked) => new DomainError('unauthorized', locked ? 'test-locked' : 'test-wrong', 'wrong'), conflict: err('conflict', 'test-conflict') },
  audit: { wrongSecret: 'test.wrong', locked: 'test.locked' },
  throttle: { keys: (target, ip, now) => throttleKeys('invitation', target, ip, now), requireUnder: requireAddressUnderLimit },
  onLock: (record) => ({ ...record, invite: { ...record.invite, status: 'Locked' } }),
};
const settings = { invitationDays: 2 } as Settings;
const ip = '203.0.113.9';

let db: MemoryDynamo;
let now: Date;
let failNextTransaction: 'before' | 'after' | undefined;
let deps: LinkDeps<{ note: string }>;

beforeEach(() => {
  db = memoryDynamo();
  now = new Date('2026-11-21T10:00:00.000Z');
  failNextTransaction = undefined;
  vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation((async (command: { input: unknown }) => {
    if (command instanceof TransactWriteCommand && failNextTransaction) {
      const when = failNextTransaction;
      failNextTransaction = undefined;
      // 'after': the write happened, only the answer is lost.
      if (when === 'after') await db.send(command);
      throw Object.assign(new Error('injected'), { name: 'InternalServerError' });
    }
    return db.send(command);
  }) as never);
  deps = { store: dynamoStore(), links: dynamoLinks(policy), throttle: memoryThrottle(), clock: () => now };
});
afterEach(() => vi.restoreAllMocks());

async function seed(patientId = 'P-1'): Promise<StoredRecord> {
  const record = { ...newRecord(patientId, now), email: 'p@example.test', cases: ['OAK'], version: 1 };
  await deps.store.saveRecord(record, 0, auditEvent({ id: 'test', sourceIp: ip }, patientTarget(patientId), 'record.created', now));
  return record;
}

async function issue(patientId = 'P-1') {
  const record = (await deps.store.getRecord(patientId)) ?? (await seed(patientId));
  const current = await deps.links.get(patientId);
  const issued = newLink(policy, { record, current, now, settings, secrets: { pin: await hashPin('abc-234') }, data: { note: 'n' } });
  await deps.links.write({ ...issued.write, audit: auditEvent({ id: 'staff', sourceIp: ip }, patientTarget(patientId), 'test.issued', now) });
  return issued;
}

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof DomainError ? e.code : String(e)));

describe('issue and look up', () => {
  it('issues a link whose token finds its state; the token itself is stored nowhere', async () => {
    const { token, state } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    expect(live.state).toMatchObject({ linkId: state.linkId, status: 'Pending', failures: 0, tries: 0, data: { note: 'n' } });
    expect(JSON.stringify([...db.tables.values()].map((t) => [...t.values()]))).not.toContain(token);
    expect(live.tokenHash).toBe(sha256(token));
  });

  it('rule 11: an unknown token and a replaced link get the one 410, and each counts against the address', async () => {
    const first = await issue();
    await issue();
    expect(await code(lookUp(deps, policy, first.token, ip))).toBe('test-gone');
    expect(await code(lookUp(deps, policy, 'no-such-token', ip))).toBe('test-gone');
    const keys = policy.throttle.keys('x', ip, now);
    expect((await deps.throttle.read(keys.accountKey, keys.addressKey)).addressFailures).toBe(2);
  });

  it('two issuers at once: the second write meets the flow conflict', async () => {
    const record = await seed();
    const a = newLink(policy, { record, current: undefined, now, settings });
    const b = newLink(policy, { record, current: undefined, now, settings });
    await deps.links.write({ ...a.write, audit: auditEvent({ id: 's', sourceIp: ip }, patientTarget('P-1'), 'test.issued', now) });
    expect(await code(deps.links.write({ ...b.write, audit: auditEvent({ id: 's', sourceIp: ip }, patientTarget('P-1'), 'test.issued', now) }))).toBe('test-conflict');
  });
});

describe('death', () => {
  it('expired, used, cancelled, locked, replaced and record changed are all dead, with their reason', async () => {
    const { token, state } = await issue();
    const record = (await deps.store.getRecord('P-1'))!;
    const pointer = await deps.links.find(sha256(token));
    const at = (s = state, r = record, t = now) => deathOf(policy, { tokenHash: sha256(token), pointer, state: s, record: r }, t);
    expect(at()).toBeUndefined();
    expect(at(state, record, new Date(Date.parse(state.expiresAt)))).toBe('expired');
    expect(at(ended(state, 'Used'))).toBe('used');
    expect(at(ended(state, 'Cancelled'))).toBe('cancelled');
    expect(at({ ...state, failures: policy.maxFailures })).toBe('locked');
    expect(at({ ...state, linkId: 'other' })).toBe('replaced');
    expect(at(state, { ...record, linkGeneration: (record.linkGeneration ?? 0) + 1 })).toBe('record-changed');
    expect(at(state, { ...record, accessEnabled: false })).toBe('record-changed');
    expect(deathOf(policy, { tokenHash: 'x', state, record }, now)).toBe('unknown');
  });

  it('rule 29: a record whose link generation moved kills the link even when everything else is back', async () => {
    const { token } = await issue();
    const record = (await deps.store.getRecord('P-1'))!;
    await deps.store.saveRecord({ ...record, linkGeneration: 1, version: record.version + 1 }, record.version, auditEvent({ id: 's', sourceIp: ip }, patientTarget('P-1'), 'x', now));
    expect(await code(lookUp(deps, policy, token, ip))).toBe('test-gone');
  });
});

describe('secrets', () => {
  it('a right set returns the try reserved; release gives it back', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    const held = await checkSecrets(deps, policy, live, { pin: 'ABC 234', word: 'OAK' }, ip);
    expect((await deps.links.get('P-1'))!.tries).toBe(1);
    await held.release();
    expect((await deps.links.get('P-1'))!.tries).toBe(0);
  });

  it('a right PIN with a wrong second secret is wrong, and which one is not said', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    expect(await code(checkSecrets(deps, policy, live, { pin: 'ABC234', word: 'ELM' }, ip))).toBe('test-wrong');
    expect(await code(checkSecrets(deps, policy, live, { pin: 'ABC234' }, ip))).toBe('test-wrong');
    expect((await deps.links.get('P-1'))).toMatchObject({ failures: 2, tries: 2 });
  });

  it('rule 7: the wrong set that reaches maxFailures locks the link, the record and kills the pointer', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    for (let i = 1; i < policy.maxFailures; i++) expect(await code(checkSecrets(deps, policy, live, { pin: 'WRONG1', word: 'OAK' }, ip))).toBe('test-wrong');
    expect(await code(checkSecrets(deps, policy, live, { pin: 'WRONG1', word: 'OAK' }, ip))).toBe('test-locked');
    expect(await deps.links.get('P-1')).toMatchObject({ status: 'Locked', failures: policy.maxFailures });
    // The stored PIN stays (a resend may revive the link with it); it is never compared while Locked.
    expect((await deps.links.get('P-1'))!.secrets?.pin).toBeDefined();
    expect(await code(deps.links.reserveTry('P-1', live.state.linkId))).toBe('ok');
    expect(await deps.links.reserveTry('P-1', live.state.linkId)).toBe('gone');
    expect(await deps.links.find(sha256(token))).toBeUndefined();
    expect((await deps.store.getRecord('P-1'))!.invite.status).toBe('Locked');
    // The right PIN after the lock: the link is gone.
    expect(await code(lookUp(deps, policy, token, ip))).toBe('test-gone');
  });

  it('rule 5: a burst of guesses gets no more comparisons than maxFailures (tries are reserved before the compare)', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    const answers = await Promise.all(Array.from({ length: 20 }, () => code(checkSecrets(deps, policy, live, { pin: 'WRONG1', word: 'OAK' }, ip))));
    const compared = answers.filter((a) => a === 'test-wrong' || a === 'test-locked').length;
    expect(compared).toBeLessThanOrEqual(policy.maxFailures);
    expect(answers.filter((a) => a !== 'test-wrong' && a !== 'test-locked').every((a) => a === 'test-busy' || a === 'test-gone')).toBe(true);
  });
});

describe('lease and commit', () => {
  const steps = (made: string[]) => ({
    newAccountId: `acc-${made.length}`,
    outside: async (accountId: string) => void made.push(accountId),
    undo: async (accountId: string) => void made.splice(made.indexOf(accountId), 1),
    commit: (record: StoredRecord | undefined, _state: unknown, _at: Date, accountId: string) => {
      if (!record || record.accountId) throw policy.errors.gone();
      return {
        record: { ...record, accountId, username: 'sam' },
        linkAccount: true,
        usernames: { claim: 'sam' },
        audit: auditEvent({ id: accountId, sourceIp: ip }, patientTarget(record.patientId), 'test.completed', now),
      };
    },
  });

  it('commits once: record registered, state Used, pointer gone; the same link again is dead', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    const made: string[] = [];
    const { accountId } = await leaseAndCommit(deps, policy, live, steps(made));
    expect((await deps.store.getRecord('P-1'))!.accountId).toBe(accountId);
    expect(await deps.links.get('P-1')).toMatchObject({ status: 'Used', accountId });
    expect(await deps.links.find(live.tokenHash)).toBeUndefined();
    expect(await code(lookUp(deps, policy, token, ip))).toBe('test-gone');
    expect(await code(leaseAndCommit(deps, policy, live, steps(made)))).toBe('test-gone');
  });

  it('a second request while the lease is held is busy; a crashed holder lets go when the lease ends', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    await deps.links.takeLease('P-1', live.state.linkId, live.tokenHash, { id: 'other', until: new Date(now.getTime() + 30_000).toISOString() }, 'acc-x', now);
    expect(await code(leaseAndCommit(deps, policy, live, steps([])))).toBe('test-busy');
    now = new Date(now.getTime() + 31_000);
    // The accountId the crashed attempt fixed is the one the next attempt completes.
    expect(await leaseAndCommit(deps, policy, live, steps([]))).toEqual({ accountId: 'acc-x' });
  });

  it('rule 24: a commit whose answer was lost is recognised as done ("did my commit happen?")', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    failNextTransaction = 'after';
    const made: string[] = [];
    const { accountId } = await leaseAndCommit(deps, policy, live, steps(made));
    expect(made).toEqual([accountId]);
    expect(await commitHappened(deps.links, 'P-1', live.state.linkId)).toBe(true);
  });

  it('rule 24: a commit that failed before writing leaves the link pending, the lease free and the outside step for a retry', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    failNextTransaction = 'before';
    const made: string[] = [];
    expect(await code(leaseAndCommit(deps, policy, live, steps(made)))).toBe('InternalServerError: injected');
    expect(await deps.links.get('P-1')).toMatchObject({ status: 'Pending' });
    expect((await deps.links.get('P-1'))!.lease).toBeUndefined();
    const again = await leaseAndCommit(deps, policy, live, steps(made));
    // The outside step ran twice, for the same login: a retry never makes a second one.
    expect(made).toEqual([again.accountId, again.accountId]);
  });

  it('a definite refusal (the username taken meanwhile) undoes the outside step and lets the lease go', async () => {
    const { token } = await issue();
    const live = await lookUp(deps, policy, token, ip);
    db.table('records-test').set('USERNAME#sam|USERNAME', { pk: 'USERNAME#sam', sk: 'USERNAME', accountId: 'someone', patientId: 'P-9' });
    const made: string[] = [];
    expect(await code(leaseAndCommit(deps, policy, live, steps(made)))).toBe('username-taken');
    expect(made).toEqual([]);
    expect((await deps.links.get('P-1'))!.lease).toBeUndefined();
    expect((await deps.links.get('P-1'))!.status).toBe('Pending');
  });
});
