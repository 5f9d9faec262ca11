/**
 * Mutation-testing rules for lambdas/domain/one-time-link.ts (issue 20): the steps of a link's
 * life under failure and attack, through lookUp / checkSecrets / leaseAndCommit on the in-memory
 * link store (test/support/memory-links.ts). Outcomes only (refused or not, which error, what the
 * state, record and audit trail hold, what was undone), never the backend calls made, so these
 * hold whatever way the store is read or batched. Rules 5, 6, 7, 9, 11, 24, 25.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, patientTarget } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  checkSecrets,
  leaseAndCommit,
  lookUp,
  newLink,
  refusal,
  type CommitSteps,
  type LinkDeps,
  type LinkPolicy,
  type LinkStore,
} from '../../../lambdas/domain/one-time-link.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink } from '../../../lambdas/domain/ports.ts';
import { digestsEqual, sha256 } from '../../../lambdas/domain/secrets.ts';
import { requireAddressUnderLimit, throttledSignIn, throttleKeys, throttlePolicy } from '../../../lambdas/domain/sign-in-throttle.ts';
import type { Settings } from '../../../lambdas/schemas/settings.ts';
import { outage } from '../../support/memory-invitations.ts';
import { memoryLinks } from '../../support/memory-links.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

type Data = { note: string };
const ip = '203.0.113.9';
const settings = { invitationDays: 2 } as Settings;
const err = (kind: ConstructorParameters<typeof DomainError>[0], code: string) => () => new DomainError(kind, code, code);

/** What a secret matcher does besides comparing (a vault down, a concurrent change): set per test. */
let duringCompare: (() => Promise<void>) | undefined;

const basePolicy: LinkPolicy<Data> = {
  kind: 'test',
  lifetimeMs: (s) => s.invitationDays * 86_400_000,
  secrets: [
    {
      name: 'pin',
      matches: async (typed, stored) => {
        await duringCompare?.();
        return stored !== undefined && digestsEqual(typed, stored);
      },
    },
  ],
  maxFailures: 3,
  leaseSeconds: 30,
  recordAllows: (record) => record.accessEnabled && !record.accountId,
  errors: {
    gone: err('gone', 'test-gone'),
    busy: err('conflict', 'test-busy'),
    wrongSecret: (locked) => new DomainError('unauthorized', locked ? 'test-locked' : 'test-wrong', 'wrong'),
    conflict: err('conflict', 'test-conflict'),
  },
  audit: { wrongSecret: 'test.wrong', locked: 'test.locked' },
  throttle: { keys: (target, sourceIp, now) => throttleKeys('invitation', target, sourceIp, now), requireUnder: requireAddressUnderLimit },
  onLock: (record) => ({ ...record, invite: { ...record.invite, status: 'Locked' } }),
};

let now: Date;
let mem: ReturnType<typeof memoryStore>;
let links: ReturnType<typeof memoryLinks<Data>>;
let throttle: ReturnType<typeof memoryThrottleState>;
let store: LinkStore<Data>;
let deps: LinkDeps<Data>;

beforeEach(() => {
  now = new Date('2026-11-21T10:00:00.000Z');
  duringCompare = undefined;
  mem = memoryStore();
  links = memoryLinks<Data>(mem, new Map<string, AccountLink>(), basePolicy);
  throttle = memoryThrottleState();
  store = { ...links.store };
  deps = { store: mem.store, links: store, throttle: throttle.store, clock: () => now };
});

function seed(patientId = 'P-1', over: Partial<StoredRecord> = {}): StoredRecord {
  const record = { ...newRecord(patientId, now), email: 'p@example.test', ...over, version: 1 };
  mem.docs.set(`patient:${patientId}`, { value: record, version: 1 });
  return record;
}

async function issue(policy: LinkPolicy<Data> = basePolicy, patientId = 'P-1', pin = 'RIGHT1') {
  const record = (await mem.store.getRecord(patientId)) ?? seed(patientId);
  const issued = newLink(policy, { record, current: links.states.get(patientId), now, settings, secrets: { pin } });
  await store.write({ ...issued.write, audit: auditEvent({ id: 'staff', sourceIp: ip }, patientTarget(patientId), 'test.issued', now) });
  return { ...issued, live: await lookUp(deps, policy, issued.token, ip) };
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof DomainError ? e.code : e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
  );
const state = (patientId = 'P-1') => links.states.get(patientId)!;
const audits = (action: string) => mem.audit.filter((a) => a.action === action);
const addressFailures = () => [...throttle.addresses.values()].reduce((a, b) => a + b, 0);

describe('rule 6: look-up is limited per source address', () => {
  it('past the budget a live token is refused with 429 before it is looked at; under it, it works', async () => {
    const { token } = await issue();
    const keys = basePolicy.throttle.keys('x', ip, now);
    throttle.addresses.set(keys.addressKey, throttlePolicy.addressFailuresPerWindow - 1);
    expect(await code(lookUp(deps, basePolicy, token, ip))).toBe('ok');
    throttle.addresses.set(keys.addressKey, throttlePolicy.addressFailuresPerWindow);
    expect(await code(lookUp(deps, basePolicy, token, ip))).toBe('too-many-attempts');
    // Another address is not held back.
    expect(await code(lookUp(deps, basePolicy, token, '198.51.100.77'))).toBe('ok');
  });

  it('a live link costs the address nothing; a dead one costs one', async () => {
    const { token } = await issue();
    await lookUp(deps, basePolicy, token, ip);
    expect(addressFailures()).toBe(0);
    expect(await code(lookUp(deps, basePolicy, `${token}x`, ip))).toBe('test-gone');
    expect(addressFailures()).toBe(1);
  });

  it('rule 9: a pointer naming another patient whose link differs is dead (a token never acts on another patient)', async () => {
    const a = await issue(basePolicy, 'P-1');
    await issue(basePolicy, 'P-2');
    links.pointers.set(a.live.tokenHash, { ...links.pointers.get(a.live.tokenHash)!, patientId: 'P-2' });
    expect(await code(lookUp(deps, basePolicy, a.token, ip))).toBe('test-gone');
  });

  it('the live link found: its state and record, the token only as its hash', async () => {
    const { token, live } = await issue();
    expect(live.tokenHash).toBe(sha256(token));
    expect(live.state).toMatchObject({ patientId: 'P-1', status: 'Pending', secrets: { pin: 'RIGHT1' } });
    expect(live.record).toMatchObject({ patientId: 'P-1', email: 'p@example.test' });
  });
});

describe('rule 5: checkSecrets reserves a try before comparing', () => {
  it('all tries in flight: the next set is busy and not compared; the link is not counted against', async () => {
    const { live } = await issue();
    for (let i = 0; i < basePolicy.maxFailures; i++) await checkSecrets(deps, basePolicy, live, { pin: 'RIGHT1' }, ip);
    let compared = 0;
    duringCompare = async () => void (compared += 1);
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip))).toBe('test-busy');
    expect(compared).toBe(0);
    expect(state()).toMatchObject({ failures: 0, tries: basePolicy.maxFailures });
  });

  it('a link that ended after the look-up: gone, nothing compared', async () => {
    const { live } = await issue();
    state().status = 'Cancelled';
    let compared = 0;
    duringCompare = async () => void (compared += 1);
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'RIGHT1' }, ip))).toBe('test-gone');
    expect(compared).toBe(0);
  });

  it('a reservation whose answer was lost is given back, and the error is not a wrong secret', async () => {
    const { live } = await issue();
    store.reserveTry = async (p, l) => {
      await links.store.reserveTry(p, l);
      throw outage('InternalServerError');
    };
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'RIGHT1' }, ip))).toBe('InternalServerError: backend down');
    expect(state()).toMatchObject({ tries: 0, failures: 0 });
  });

  it('the give-back failing too still answers the first error', async () => {
    const { live } = await issue();
    store.reserveTry = async () => {
      throw outage('InternalServerError');
    };
    store.releaseTry = async () => {
      throw outage('ServiceUnavailable');
    };
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'RIGHT1' }, ip))).toBe('InternalServerError: backend down');
  });

  it('a compare that fails (not a wrong set) gives the try back, counts nothing and audits nothing', async () => {
    const { live } = await issue();
    duringCompare = async () => {
      throw outage('KMSInternalException');
    };
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip))).toBe('KMSInternalException: backend down');
    expect(state()).toMatchObject({ tries: 0, failures: 0, status: 'Pending' });
    expect(audits('test.wrong')).toHaveLength(0);
  });

  it('a compare failure whose give-back fails too: still the compare error', async () => {
    const { live } = await issue();
    duringCompare = async () => {
      throw outage('KMSInternalException');
    };
    store.releaseTry = async () => {
      throw outage('ServiceUnavailable');
    };
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip))).toBe('KMSInternalException: backend down');
  });

  it('a right set keeps its try until released; a failing release is swallowed', async () => {
    const { live } = await issue();
    const held = await checkSecrets(deps, basePolicy, live, { pin: 'RIGHT1' }, ip);
    expect(state().tries).toBe(1);
    store.releaseTry = async () => {
      throw outage('ServiceUnavailable');
    };
    await expect(held.release()).resolves.toBeUndefined();
  });
});

describe('rules 7 and 10: the secrets compared', () => {
  it('a secret left out is a wrong set (never compared as undefined); the right one after it works', async () => {
    const { live } = await issue();
    expect(await code(checkSecrets(deps, basePolicy, live, {}, ip))).toBe('test-wrong');
    expect(await code(checkSecrets(deps, basePolicy, live, { PIN: 'RIGHT1' }, ip))).toBe('test-wrong');
    expect(state().failures).toBe(2);
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'RIGHT1' }, ip))).toBe('ok');
  });

  it('every secret must match: a right first with a wrong second and a wrong first with a right second are both wrong', async () => {
    const second = {
      name: 'word',
      matches: async (typed: string, _s: string | undefined, _st: unknown, record: StoredRecord) => digestsEqual(typed, record.email ?? ''),
    };
    const two: LinkPolicy<Data> = { ...basePolicy, maxFailures: 5, secrets: [...basePolicy.secrets, second] };
    const { live } = await issue(two);
    expect(await code(checkSecrets(deps, two, live, { pin: 'RIGHT1', word: 'x@example.test' }, ip))).toBe('test-wrong');
    expect(await code(checkSecrets(deps, two, live, { pin: 'WRONG1', word: 'p@example.test' }, ip))).toBe('test-wrong');
    expect(await code(checkSecrets(deps, two, live, { pin: 'RIGHT1', word: 'p@example.test' }, ip))).toBe('ok');
  });

  it('a wrong set is audited as the flow names it, with the count, against the patient, from the address', async () => {
    const { live } = await issue();
    await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip));
    expect(audits('test.wrong')).toEqual([
      expect.objectContaining({ actor: 'anonymous', sourceIp: ip, target: patientTarget('P-1'), outcome: 'failure', detail: { failures: 1 } }),
    ]);
  });

  it('the wrong set that reaches maxFailures locks: state Locked, pointer gone, record changed by the policy, audited once', async () => {
    const { live, token } = await issue();
    for (let i = 1; i < basePolicy.maxFailures; i++) expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip))).toBe('test-wrong');
    expect(state().status).toBe('Pending');
    expect(audits('test.locked')).toHaveLength(0);
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip))).toBe('test-locked');
    expect(state()).toMatchObject({ status: 'Locked', failures: basePolicy.maxFailures });
    expect(state().tokenHash).toBeUndefined();
    expect(links.pointers.has(sha256(token))).toBe(false);
    const record = (await mem.store.getRecord('P-1'))!;
    expect(record.invite.status).toBe('Locked');
    expect(record.updatedAt).toBe(now.toISOString());
    expect(mem.docs.get('patient:P-1')!.version).toBe(2);
    expect(record.version).toBe(2);
    expect(audits('test.locked')).toEqual([
      expect.objectContaining({ actor: 'anonymous', sourceIp: ip, target: patientTarget('P-1'), outcome: 'failure', detail: { failures: basePolicy.maxFailures } }),
    ]);
  });

  it('a policy without a record change locks the link and leaves the record as it was', async () => {
    const plain: LinkPolicy<Data> = { ...basePolicy, maxFailures: 1 };
    delete plain.onLock;
    const { live } = await issue(plain);
    const before = structuredClone(mem.docs.get('patient:P-1'));
    expect(await code(checkSecrets(deps, plain, live, { pin: 'WRONG1' }, ip))).toBe('test-locked');
    expect(state().status).toBe('Locked');
    expect(mem.docs.get('patient:P-1')).toEqual(before);
  });

  it('a wrong set on a link cancelled while it was compared: not said locked, no lock written, audited at the limit', async () => {
    const { live } = await issue();
    duringCompare = async () => {
      state().status = 'Cancelled';
    };
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip))).toBe('test-wrong');
    expect(state().status).toBe('Cancelled');
    expect(audits('test.locked')).toHaveLength(0);
    expect(audits('test.wrong').at(-1)?.detail).toEqual({ failures: basePolicy.maxFailures });
  });

  it('a lock whose write meets a concurrent change reads again and locks', async () => {
    const { live } = await issue({ ...basePolicy, maxFailures: 1 });
    const one = { ...basePolicy, maxFailures: 1 };
    let conflicts = 1;
    store.write = async (change) => {
      if (conflicts-- > 0) throw basePolicy.errors.conflict();
      return links.store.write(change);
    };
    expect(await code(checkSecrets(deps, one, live, { pin: 'WRONG1' }, ip))).toBe('test-locked');
    expect(state().status).toBe('Locked');
  });

  it('a lock whose write fails otherwise answers that failure (the counter alone keeps the link dead)', async () => {
    const one = { ...basePolicy, maxFailures: 1 };
    const { live, token } = await issue(one);
    store.write = async () => {
      throw outage('InternalServerError');
    };
    expect(await code(checkSecrets(deps, one, live, { pin: 'WRONG1' }, ip))).toBe('InternalServerError: backend down');
    expect(await code(lookUp(deps, one, token, ip))).toBe('test-gone');
  });

  it('a lock whose write fails with another domain error answers that error as it is (no retry turns it into a conflict)', async () => {
    const one = { ...basePolicy, maxFailures: 1 };
    const { live } = await issue(one);
    store.write = async () => {
      throw new DomainError('unavailable', 'backend-busy', 'busy');
    };
    expect(await code(checkSecrets(deps, one, live, { pin: 'WRONG1' }, ip))).toBe('backend-busy');
  });

  it('a lock finding the link replaced meanwhile leaves the new link alone', async () => {
    const one = { ...basePolicy, maxFailures: 1 };
    const { live } = await issue(one);
    let replaced: Awaited<ReturnType<typeof issue>> | undefined;
    duringCompare = async () => {
      duringCompare = undefined;
      replaced = await issue(one);
    };
    expect(await code(checkSecrets(deps, one, live, { pin: 'WRONG1' }, ip))).toBe('test-wrong');
    expect(state()).toMatchObject({ status: 'Pending', linkId: replaced!.state.linkId });
    expect(await code(lookUp(deps, one, replaced!.token, ip))).toBe('ok');
  });

  it('a lock of a record that is gone writes nothing', async () => {
    const one = { ...basePolicy, maxFailures: 1 };
    const { live } = await issue(one);
    duringCompare = async () => void mem.docs.delete('patient:P-1');
    expect(await code(checkSecrets(deps, one, live, { pin: 'WRONG1' }, ip))).toBe('test-locked');
    expect(audits('test.locked')).toHaveLength(0);
  });

  it('a lock finding the same link ended by staff meanwhile leaves it as staff left it', async () => {
    const one = { ...basePolicy, maxFailures: 1 };
    const { live } = await issue(one);
    store.countFailure = async (p, l) => {
      const n = await links.store.countFailure(p, l);
      state().status = 'Cancelled';
      return n;
    };
    expect(await code(checkSecrets(deps, one, live, { pin: 'WRONG1' }, ip))).toBe('test-locked');
    expect(state().status).toBe('Cancelled');
    expect(audits('test.locked')).toHaveLength(0);
    expect((await mem.store.getRecord('P-1'))!.invite.status).not.toBe('Locked');
  });

  it('a lock finding no link state at all writes nothing', async () => {
    const one = { ...basePolicy, maxFailures: 1 };
    const { live } = await issue(one);
    store.countFailure = async (p, l) => {
      const n = await links.store.countFailure(p, l);
      links.states.delete(p);
      return n;
    };
    expect(await code(checkSecrets(deps, one, live, { pin: 'WRONG1' }, ip))).toBe('test-locked');
    expect(audits('test.locked')).toHaveLength(0);
  });

  it('a secret checked against the record works on a link that stores no secrets', async () => {
    const byRecord: LinkPolicy<Data> = {
      ...basePolicy,
      secrets: [{ name: 'word', matches: async (typed, stored, _s, record) => stored === undefined && digestsEqual(typed, record.email ?? '') }],
    };
    const record = seed();
    const issued = newLink(byRecord, { record, current: undefined, now, settings });
    await store.write({ ...issued.write, audit: auditEvent({ id: 'staff', sourceIp: ip }, patientTarget('P-1'), 'test.issued', now) });
    const live = await lookUp(deps, byRecord, issued.token, ip);
    expect(await code(checkSecrets(deps, byRecord, live, { word: 'p@example.test' }, ip))).toBe('ok');
    expect(await code(checkSecrets(deps, byRecord, live, { word: 'q@example.test' }, ip))).toBe('test-wrong');
  });

  it('a guard around the compare: a refusal it throws is a counted wrong set; its own 429 passes through uncounted', async () => {
    let refuse = true;
    const guarded: LinkPolicy<Data> = {
      ...basePolicy,
      throttle: {
        ...basePolicy.throttle,
        guardCompare: async (_deps, _keys, compare) => {
          if (refuse) throw refusal();
          await compare();
        },
      },
    };
    const { live } = await issue(guarded);
    expect(await code(checkSecrets(deps, guarded, live, { pin: 'RIGHT1' }, ip))).toBe('test-wrong');
    expect(state()).toMatchObject({ failures: 1, tries: 1 });
    refuse = false;
    expect(await code(checkSecrets(deps, guarded, live, { pin: 'RIGHT1' }, ip))).toBe('ok');
  });

  it('rule 6: with the sign-in throttle as guard, wrong PINs on one link do not hold back another link', async () => {
    const guarded: LinkPolicy<Data> = {
      ...basePolicy,
      maxFailures: 10,
      throttle: { ...basePolicy.throttle, guardCompare: (d, keys, compare) => throttledSignIn(d, keys, compare) },
    };
    links = memoryLinks<Data>(mem, new Map<string, AccountLink>(), guarded);
    store = { ...links.store };
    deps = { ...deps, links: store };
    const a = await issue(guarded, 'P-1');
    const b = await issue(guarded, 'P-2');
    for (let i = 0; i < throttlePolicy.freeFailures; i++) expect(await code(checkSecrets(deps, guarded, a.live, { pin: 'WRONG1' }, ip))).toBe('test-wrong');
    // Link A must now wait; link B (same address, under its budget) is compared at once.
    expect(await code(checkSecrets(deps, guarded, a.live, { pin: 'RIGHT1' }, ip))).toBe('too-many-attempts');
    expect(await code(checkSecrets(deps, guarded, b.live, { pin: 'RIGHT1' }, '198.51.100.5'))).toBe('ok');
    expect(await code(checkSecrets(deps, guarded, b.live, { pin: 'RIGHT1' }, ip))).toBe('ok');
  });
});

describe('rules 24 and 25: lease and commit', () => {
  const made: string[] = [];
  const undone: string[] = [];
  beforeEach(() => {
    made.length = 0;
    undone.length = 0;
  });
  const steps = (over: Partial<CommitSteps<Data>> = {}): CommitSteps<Data> => ({
    newAccountId: 'acc-new',
    outside: async (accountId) => void made.push(accountId),
    undo: async (accountId) => void undone.push(accountId),
    commit: (record, _state, at, accountId) => {
      if (!record || record.accountId) throw basePolicy.errors.gone();
      return {
        record: { ...record, accountId, username: 'sam' },
        linkAccount: true,
        usernames: { claim: 'sam' },
        audit: auditEvent({ id: accountId, sourceIp: ip }, patientTarget(record.patientId), 'test.completed', at),
      };
    },
    ...over,
  });

  it('commits: the record with the login, a new version and the commit time; the link Used; audited', async () => {
    const { live } = await issue();
    now = new Date('2026-11-21T10:00:05.000Z');
    expect(await leaseAndCommit(deps, basePolicy, live, steps())).toEqual({ accountId: 'acc-new' });
    expect(made).toEqual(['acc-new']);
    expect(mem.docs.get('patient:P-1')).toMatchObject({ version: 2, value: { accountId: 'acc-new', username: 'sam', updatedAt: now.toISOString(), version: 2 } });
    expect(state()).toMatchObject({ status: 'Used', accountId: 'acc-new' });
    expect(state().lease).toBeUndefined();
    expect(audits('test.completed')).toHaveLength(1);
  });

  it('the lease lasts leaseSeconds: a crashed holder blocks a second request until then, not after', async () => {
    const { live } = await issue();
    const crash = steps({
      outside: async () => {
        throw outage('Crash');
      },
    });
    store.releaseLease = async () => {
      throw outage('ServiceUnavailable');
    };
    expect(await code(leaseAndCommit(deps, basePolicy, live, crash))).toBe('Crash: backend down');
    expect(state().lease?.until).toBe(new Date(now.getTime() + basePolicy.leaseSeconds * 1000).toISOString());
    store.releaseLease = links.store.releaseLease;
    now = new Date(now.getTime() + basePolicy.leaseSeconds * 1000 - 1000);
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('test-busy');
    expect(made).toEqual([]);
    now = new Date(now.getTime() + 2000);
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('ok');
  });

  it('a failed outside step lets the lease go (a retry goes on at once), undoes nothing and answers its error', async () => {
    const { live } = await issue();
    const failing = steps({
      outside: async () => {
        throw outage('InternalErrorException');
      },
    });
    expect(await code(leaseAndCommit(deps, basePolicy, live, failing))).toBe('InternalErrorException: backend down');
    expect(undone).toEqual([]);
    expect(state().lease).toBeUndefined();
    expect(state().status).toBe('Pending');
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('ok');
  });

  it('a lease taken with its answer lost is let go, so the retry is not busy behind itself', async () => {
    const { live } = await issue();
    store.takeLease = async (...args) => {
      await links.store.takeLease(...args);
      throw outage('InternalServerError');
    };
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('InternalServerError: backend down');
    expect(made).toEqual([]);
    store.takeLease = links.store.takeLease;
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('ok');
  });

  it('a lease taken with its answer lost, and its let-go failing too: still the first error', async () => {
    const { live } = await issue();
    store.takeLease = async () => {
      throw outage('InternalServerError');
    };
    store.releaseLease = async () => {
      throw outage('ServiceUnavailable');
    };
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('InternalServerError: backend down');
  });

  it('a link with no login fixed and none given: refused before the outside step', async () => {
    const { live } = await issue();
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps({ newAccountId: undefined })))).toMatch(/^Error: test: a leased link without an accountId/);
    expect(made).toEqual([]);
  });

  it('a link that died after the look-up: gone, no outside step', async () => {
    const { live } = await issue();
    state().status = 'Cancelled';
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('test-gone');
    expect(made).toEqual([]);
  });

  it('a definite refusal of the commit (the record no longer qualifies) undoes the outside step and lets the lease go', async () => {
    const { live } = await issue();
    const doc = mem.docs.get('patient:P-1')!;
    doc.value = { ...(doc.value as StoredRecord), accountId: 'someone-else' };
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('test-gone');
    expect(made).toEqual(['acc-new']);
    expect(undone).toEqual(['acc-new']);
    expect(state().lease).toBeUndefined();
  });

  it('a username taken meanwhile undoes the login; an undo that fails still answers username-taken', async () => {
    const { live } = await issue();
    const usernames = new Map<string, AccountLink>([['sam', { accountId: 'other', patientId: 'P-9' }]]);
    const taken = memoryLinks<Data>(mem, usernames, basePolicy);
    taken.states.set('P-1', structuredClone(state()));
    taken.pointers.set(live.tokenHash, links.pointers.get(live.tokenHash)!);
    deps = { ...deps, links: taken.store };
    const failingUndo = steps({
      undo: async (accountId) => {
        undone.push(accountId);
        throw outage('InternalErrorException');
      },
    });
    expect(await code(leaseAndCommit(deps, basePolicy, live, failingUndo))).toBe('username-taken');
    expect(undone).toEqual(['acc-new']);
    expect(taken.states.get('P-1')!.lease).toBeUndefined();
    expect(taken.states.get('P-1')!.status).toBe('Pending');
  });

  it('an unknown outcome that did not commit undoes nothing (the retry completes the same login)', async () => {
    const { live } = await issue();
    store.complete = async () => {
      throw outage('InternalServerError');
    };
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('InternalServerError: backend down');
    expect(undone).toEqual([]);
    expect(state()).toMatchObject({ status: 'Pending', accountId: 'acc-new' });
    expect(state().lease).toBeUndefined();
    store.complete = links.store.complete;
    expect(await leaseAndCommit(deps, basePolicy, live, steps({ newAccountId: 'acc-other' }))).toEqual({ accountId: 'acc-new' });
    expect(made).toEqual(['acc-new', 'acc-new']);
  });

  it('an unknown outcome that did commit is success, once, with nothing undone', async () => {
    const { live } = await issue();
    store.complete = async (change) => {
      await links.store.complete(change);
      throw outage('InternalServerError');
    };
    expect(await leaseAndCommit(deps, basePolicy, live, steps())).toEqual({ accountId: 'acc-new' });
    expect(undone).toEqual([]);
    expect(state().status).toBe('Used');
  });

  it('a definite refusal is never taken for success, even if the link reads Used by then', async () => {
    const { live } = await issue();
    store.complete = async (change) => {
      await links.store.complete(change);
      throw new DomainError('conflict', 'username-taken', 'taken');
    };
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('username-taken');
    expect(undone).toEqual(['acc-new']);
  });

  it('an outside step that failed definitely made nothing: nothing undone', async () => {
    const { live } = await issue();
    const refused = steps({
      outside: async () => {
        throw basePolicy.errors.gone();
      },
    });
    expect(await code(leaseAndCommit(deps, basePolicy, live, refused))).toBe('test-gone');
    expect(undone).toEqual([]);
    expect(state().lease).toBeUndefined();
  });

  it('another domain error of the commit (not a refusal) is an unknown outcome: nothing undone, the lease let go', async () => {
    const { live } = await issue();
    store.complete = async () => {
      throw new DomainError('unavailable', 'backend-busy', 'busy');
    };
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('backend-busy');
    expect(undone).toEqual([]);
    expect(state()).toMatchObject({ status: 'Pending', accountId: 'acc-new' });
    expect(state().lease).toBeUndefined();
  });

  it('a flow with nothing to undo: a definite refusal still answers the refusal', async () => {
    const { live } = await issue();
    const doc = mem.docs.get('patient:P-1')!;
    doc.value = { ...(doc.value as StoredRecord), accountId: 'someone-else' };
    const noUndo = steps();
    delete noUndo.undo;
    expect(await code(leaseAndCommit(deps, basePolicy, live, noUndo))).toBe('test-gone');
    expect(state().lease).toBeUndefined();
  });

  it('a record edited between the read and the commit: read again, committed on the new version', async () => {
    const { live } = await issue();
    let edits = 1;
    store.complete = async (change) => {
      if (edits-- > 0) {
        const doc = mem.docs.get('patient:P-1')!;
        mem.docs.set('patient:P-1', { value: { ...(doc.value as StoredRecord), cases: ['EDIT'], version: doc.version + 1 }, version: doc.version + 1 });
      }
      return links.store.complete(change);
    };
    expect(await code(leaseAndCommit(deps, basePolicy, live, steps()))).toBe('ok');
    expect(mem.docs.get('patient:P-1')).toMatchObject({ version: 3, value: { cases: ['EDIT'], accountId: 'acc-new', version: 3 } });
  });
});

