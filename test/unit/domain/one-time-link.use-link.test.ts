/**
 * Mutation-testing rules for lambdas/domain/one-time-link.ts (issue 20) after issue 16: `useLink`
 * (one write takes the lease AND reserves the try, compare under the lease, a wrong set counted
 * and the lease let go in one write, any other failure giving lease and try back in one write)
 * and `lookUp` with `reads` (two batched reads, the guard's counters read with the link). Through
 * the exported functions on the in-memory link store; outcomes only: what a caller or attacker
 * is answered, what the state, record, counters and audit trail hold. Rules 5, 6, 7, 11, 24, 25, 29.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, patientTarget } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  checkSecrets,
  lookUp,
  newLink,
  useLink,
  type LinkDeps,
  type LinkPolicy,
  type LinkState,
  type LinkStore,
  type UseSteps,
} from '../../../lambdas/domain/one-time-link.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink } from '../../../lambdas/domain/ports.ts';
import { digestsEqual, sha256 } from '../../../lambdas/domain/secrets.ts';
import { requireAddressUnderLimit, throttledSignIn, throttleKeys, throttlePolicy, type ThrottleStore } from '../../../lambdas/domain/sign-in-throttle.ts';
import type { Settings } from '../../../lambdas/schemas/settings.ts';
import { outage } from '../../support/memory-invitations.ts';
import { memoryLinks } from '../../support/memory-links.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

type Data = { note: string };
const ip = '203.0.113.9';
const otherIp = '198.51.100.77';
const settings = { invitationDays: 2 } as Settings;
const err = (kind: ConstructorParameters<typeof DomainError>[0], code: string) => () => new DomainError(kind, code, code);

/** Every secret comparison made (the typed value), and what a matcher does besides (set per test). */
let compared: string[];
let duringCompare: (() => Promise<void>) | undefined;

const basePolicy: LinkPolicy<Data> = {
  kind: 'test',
  lifetimeMs: (s) => s.invitationDays * 86_400_000,
  secrets: [
    {
      name: 'pin',
      matches: async (typed, stored) => {
        compared.push(typed);
        await duringCompare?.();
        return stored !== undefined && digestsEqual(typed, stored);
      },
    },
  ],
  maxFailures: 5,
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

/** The invitation's guard: the sign-in throttle per link (`pin:<hash>`) and address around the compare. */
const guarded: LinkPolicy<Data> = {
  ...basePolicy,
  throttle: { ...basePolicy.throttle, guardCompare: (d, keys, compare) => throttledSignIn(d, keys, compare) },
};

let now: Date;
let mem: ReturnType<typeof memoryStore>;
let links: ReturnType<typeof memoryLinks<Data>>;
let throttle: ReturnType<typeof memoryThrottleState>;
let store: LinkStore<Data>;
let deps: LinkDeps<Data>;
let made: string[];
let undone: string[];

beforeEach(() => {
  now = new Date('2026-11-21T10:00:00.000Z');
  compared = [];
  duringCompare = undefined;
  made = [];
  undone = [];
  mem = memoryStore();
  throttle = memoryThrottleState();
  links = memoryLinks<Data>(mem, new Map<string, AccountLink>(), basePolicy, throttle.store);
  store = { ...links.store };
  deps = { store: mem.store, links: store, throttle: throttle.store, clock: () => now };
});

function seed(patientId = 'P-1', over: Partial<StoredRecord> = {}): StoredRecord {
  const record = { ...newRecord(patientId, now), email: 'p@example.test', ...over, version: 1 };
  mem.docs.set(`patient:${patientId}`, { value: record, version: 1 });
  return record;
}

/** A record write by someone else: the version moves on, as every real record write does. */
function edit(change: Partial<StoredRecord>, patientId = 'P-1') {
  const doc = mem.docs.get(`patient:${patientId}`)!;
  doc.version += 1;
  doc.value = { ...(doc.value as StoredRecord), ...change, version: doc.version };
}

/** A link-state write by someone else (a crashed request's leftovers): its version moves on too. */
function editState(change: Partial<LinkState<Data>>, patientId = 'P-1') {
  const s = links.states.get(patientId)!;
  links.states.set(patientId, { ...s, ...change, version: s.version + 1 });
}

async function issue(policy: LinkPolicy<Data> = basePolicy, patientId = 'P-1', pin = 'RIGHT1') {
  const record = (await mem.store.getRecord(patientId)) ?? seed(patientId);
  const issued = newLink(policy, { record, current: links.states.get(patientId), now, settings, secrets: { pin } });
  await store.write({ ...issued.write, audit: auditEvent({ id: 'staff', sourceIp: ip }, patientTarget(patientId), 'test.issued', now) });
  return issued;
}

const open = (token: string, policy: LinkPolicy<Data> = basePolicy, from = ip) => lookUp(deps, policy, token, from, {});

const steps = (over: Partial<UseSteps<Data>> = {}): UseSteps<Data> => ({
  newAccountId: 'acc-new',
  outside: async (accountId) => void made.push(accountId),
  undo: async (accountId) => void undone.push(accountId),
  commit: (record, _state, _at, accountId) => ({ record: { ...record!, accountId }, audit: auditEvent({ id: 'anonymous', sourceIp: ip }, patientTarget('P-1'), 'test.used', now) }),
  ...over,
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof DomainError ? e.code : e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
  );
const state = (patientId = 'P-1') => links.states.get(patientId)!;
const record = (patientId = 'P-1') => mem.docs.get(`patient:${patientId}`)!.value as StoredRecord;
const audits = (action: string) => mem.audit.filter((a) => a.action === action);
const addressFailures = () => [...throttle.addresses.values()].reduce((a, b) => a + b, 0);
const pinKeys = (token: string, from = ip) => basePolicy.throttle.keys(`pin:${sha256(token)}`, from, now);

/** useLink from the token, as registration does: look up with reads, then use. */
async function use(token: string, pin: string, over: Partial<UseSteps<Data>> = {}, policy: LinkPolicy<Data> = basePolicy, from = ip) {
  const live = await lookUp(deps, policy, token, from, {});
  return useLink(deps, policy, live, { pin }, from, steps(over));
}

describe('lookUp with reads (issue 16): the link and what the flow reads beside it, in two calls', () => {
  it('the live link, with what `first` and `withState` read (withState for the patient the pointer names)', async () => {
    const { token } = await issue();
    const asked: string[] = [];
    const live = await lookUp(deps, basePolicy, token, ip, {
      first: async () => 'from-first',
      withState: async (patientId) => (asked.push(patientId), `settings-of-${patientId}`),
    });
    expect(live).toEqual({
      tokenHash: sha256(token),
      state: expect.objectContaining({ patientId: 'P-1', status: 'Pending', secrets: { pin: 'RIGHT1' } }),
      record: expect.objectContaining({ patientId: 'P-1', email: 'p@example.test' }),
      first: 'from-first',
      withState: 'settings-of-P-1',
    });
    expect(asked).toEqual(['P-1']);
    expect(addressFailures()).toBe(0);
  });

  it('without reads beside: `first` and `withState` are undefined, the link is still found', async () => {
    const { token } = await issue();
    const live = await open(token);
    expect(live.state.status).toBe('Pending');
    expect(live.first).toBeUndefined();
    expect(live.withState).toBeUndefined();
  });

  it('rule 6: past the address budget it is 429 before the pointer is looked at, whatever `first` read', async () => {
    const { token } = await issue();
    const keys = basePolicy.throttle.keys('x', ip, now);
    throttle.addresses.set(keys.addressKey, throttlePolicy.addressFailuresPerWindow);
    let stateRead = 0;
    const reads = { first: async () => 'a username that exists', withState: async () => void (stateRead += 1) };
    expect(await code(lookUp(deps, basePolicy, token, ip, reads))).toBe('too-many-attempts');
    // A dead token from that address is the same 429 (not the 410 that would tell it apart).
    expect(await code(lookUp(deps, basePolicy, `${token}x`, ip, reads))).toBe('too-many-attempts');
    expect(stateRead).toBe(0);
    // One failure under the budget: the link works; another address is not held back.
    throttle.addresses.set(keys.addressKey, throttlePolicy.addressFailuresPerWindow - 1);
    expect(await code(lookUp(deps, basePolicy, token, ip, reads))).toBe('ok');
    throttle.addresses.set(keys.addressKey, throttlePolicy.addressFailuresPerWindow);
    expect(await code(lookUp(deps, basePolicy, token, otherIp, reads))).toBe('ok');
  });

  it('rules 11 and 29: every dead link is the one 410 and costs the address one failure; a live one costs nothing', async () => {
    const a = await issue(basePolicy, 'P-1');
    expect(await code(open(a.token))).toBe('ok');
    expect(addressFailures()).toBe(0);
    // unknown token
    expect(await code(open(`${a.token}x`))).toBe('test-gone');
    expect(addressFailures()).toBe(1);
    // replaced by a newer link
    const b = await issue(basePolicy, 'P-1');
    expect(await code(open(a.token))).toBe('test-gone');
    expect(addressFailures()).toBe(2);
    // record changed since issue (access off): rule 29
    edit({ accessEnabled: false });
    expect(await code(open(b.token))).toBe('test-gone');
    expect(addressFailures()).toBe(3);
    edit({ accessEnabled: true });
    expect(await code(open(b.token))).toBe('ok');
    // expired
    now = new Date(Date.parse(state().expiresAt));
    expect(await code(open(b.token))).toBe('test-gone');
    expect(addressFailures()).toBe(4);
  });

  it('with a guard: its counters are read with the link (per link and address), and without one no guard read is kept', async () => {
    const { token } = await issue(guarded);
    const withGuard = await open(token, guarded);
    expect(withGuard.guardRead).toEqual({ keys: pinKeys(token), counters: { addressFailures: 0 } });
    const without = await open(token, basePolicy);
    expect(without.guardRead).toBeUndefined();
  });
});

describe('rule 5: useLink spends a try before any compare, one compare at a time', () => {
  it('a right set: the login is made, the record and state committed, the try kept (the link is used)', async () => {
    const { token } = await issue();
    expect(await use(token, 'RIGHT1')).toEqual({ accountId: 'acc-new' });
    expect(made).toEqual(['acc-new']);
    expect(state()).toMatchObject({ status: 'Used', tries: 1, failures: 0, accountId: 'acc-new' });
    expect(state().lease).toBeUndefined();
    expect(record()).toMatchObject({ accountId: 'acc-new', version: 2 });
    expect(audits('test.used')).toHaveLength(1);
    // The same link again: the one 410.
    expect(await code(use(token, 'RIGHT1'))).toBe('test-gone');
  });

  it('the try is reserved (and the lease held) while the secrets are compared', async () => {
    const { token } = await issue();
    const seen: Array<Pick<LinkState<Data>, 'tries' | 'failures'> & { leased: boolean }> = [];
    duringCompare = async () => void seen.push({ tries: state().tries, failures: state().failures, leased: state().lease !== undefined });
    await use(token, 'RIGHT1');
    expect(seen).toEqual([{ tries: 1, failures: 0, leased: true }]);
  });

  it('a wrong set with the right token: refused, counted, audited, lease let go, try kept; nothing outside, nothing committed', async () => {
    const { token } = await issue();
    expect(await code(use(token, 'WRONG1'))).toBe('test-wrong');
    expect(state()).toMatchObject({ status: 'Pending', failures: 1, tries: 1 });
    expect(state().lease).toBeUndefined();
    expect(made).toEqual([]);
    expect(record().accountId).toBeUndefined();
    expect(audits('test.wrong')).toHaveLength(1);
    // The right set straight after is not kept waiting by the wrong one's lease.
    expect(await use(token, 'RIGHT1')).toEqual({ accountId: 'acc-new' });
  });

  it('rule 7: the 5th wrong set locks (state Locked, pointer gone, invite Locked); then the right set is the 410', async () => {
    const { token } = await issue();
    for (let i = 1; i < basePolicy.maxFailures; i++) expect(await code(use(token, 'WRONG1'))).toBe('test-wrong');
    expect(await code(use(token, 'WRONG1'))).toBe('test-locked');
    expect(state()).toMatchObject({ status: 'Locked', failures: basePolicy.maxFailures });
    expect(links.pointers.has(sha256(token))).toBe(false);
    expect(record().invite.status).toBe('Locked');
    expect(audits('test.locked')).toHaveLength(1);
    expect(await code(use(token, 'RIGHT1'))).toBe('test-gone');
    expect(made).toEqual([]);
  });

  it('a burst of 20 wrong guesses at once gets one compare and busy answers; exactly maxFailures compares ever', async () => {
    const { token } = await issue();
    const lives = await Promise.all(Array.from({ length: 20 }, () => open(token)));
    const burst = await Promise.all(lives.map((live, i) => code(useLink(deps, basePolicy, live, { pin: `WRONG${i}` }, ip, steps()))));
    expect(burst.filter((c) => c === 'test-wrong')).toHaveLength(1);
    expect(burst.filter((c) => c === 'test-busy')).toHaveLength(19);
    expect(compared).toHaveLength(1);
    for (let i = 0; i < 20; i++) await code(useLink(deps, basePolicy, lives[0]!, { pin: `AGAIN${i}` }, ip, steps()));
    expect(compared).toHaveLength(basePolicy.maxFailures);
    expect(state().status).toBe('Locked');
  });

  it('with every try in flight (crashed requests\' tries, no lease): busy, nothing compared, nothing counted', async () => {
    const { token } = await issue();
    const live = await open(token);
    editState({ tries: basePolicy.maxFailures });
    expect(await code(useLink(deps, basePolicy, live, { pin: 'RIGHT1' }, ip, steps()))).toBe('test-busy');
    expect(compared).toEqual([]);
    expect(state()).toMatchObject({ failures: 0, tries: basePolicy.maxFailures, status: 'Pending' });
    expect(state().lease).toBeUndefined();
  });

  it('rules 24/25: another request holds the lease for leaseSeconds: busy, nothing compared; after it the link works', async () => {
    const { token } = await issue();
    const answers: string[] = [];
    const first = use(token, 'RIGHT1', {
      outside: async (accountId) => {
        made.push(accountId);
        for (const later of [1_000, 29_000]) {
          now = new Date(Date.parse('2026-11-21T10:00:00.000Z') + later);
          answers.push(await code(use(token, 'RIGHT1', { newAccountId: 'acc-second' })));
        }
        now = new Date('2026-11-21T10:00:00.000Z');
      },
    });
    expect(await first).toEqual({ accountId: 'acc-new' });
    expect(answers).toEqual(['test-busy', 'test-busy']);
    expect(compared).toEqual(['RIGHT1']);
    expect(made).toEqual(['acc-new']);
  });

  it('a link that ended after the look-up: the 410, nothing compared, no try taken', async () => {
    const { token } = await issue();
    const live = await open(token);
    editState({ status: 'Cancelled' });
    expect(await code(useLink(deps, basePolicy, live, { pin: 'RIGHT1' }, ip, steps()))).toBe('test-gone');
    expect(compared).toEqual([]);
    expect(state().tries).toBe(0);
  });
});

describe('useLink: every failure but a wrong set gives lease and try back in one write (the same request can be repeated)', () => {
  const given = () => {
    expect(state()).toMatchObject({ status: 'Pending', tries: 0, failures: 0 });
    expect(state().lease).toBeUndefined();
  };

  it('the lease write answered lost (taken all the same): lease and try given back, the outage answered', async () => {
    const { token } = await issue();
    store.takeLease = async (...args) => {
      await links.store.takeLease(...args);
      throw outage('InternalServerError');
    };
    expect(await code(use(token, 'RIGHT1'))).toBe('InternalServerError: backend down');
    given();
    expect(compared).toEqual([]);
    store.takeLease = links.store.takeLease;
    expect(await use(token, 'RIGHT1')).toEqual({ accountId: 'acc-new' });
  });

  it('the give-back failing too still answers the first error', async () => {
    const { token } = await issue();
    links.failOnce.add('takeLease');
    links.failOnce.add('releaseLease');
    expect(await code(use(token, 'RIGHT1'))).toBe('InternalServerError: backend down');
  });

  it('a compare that fails (not a wrong set): lease and try back, nothing counted or audited', async () => {
    const { token } = await issue();
    duringCompare = async () => {
      throw outage('KMSInternalException');
    };
    expect(await code(use(token, 'WRONG1'))).toBe('KMSInternalException: backend down');
    given();
    expect(audits('test.wrong')).toHaveLength(0);
    expect(made).toEqual([]);
  });

  it("the flow's own check refusing after the right set: its error, lease and try back, nothing outside", async () => {
    const { token } = await issue();
    const check = () => {
      throw new DomainError('bad-request', 'weak-password', 'weak');
    };
    expect(await code(use(token, 'RIGHT1', { check }))).toBe('weak-password');
    given();
    expect(made).toEqual([]);
    expect(record().accountId).toBeUndefined();
    let checked = 0;
    expect(await use(token, 'RIGHT1', { check: () => void (checked += 1) })).toEqual({ accountId: 'acc-new' });
    expect(checked).toBe(1);
  });

  it('the check is not run for a wrong set', async () => {
    const { token } = await issue();
    let checked = 0;
    expect(await code(use(token, 'WRONG1', { check: () => void (checked += 1) }))).toBe('test-wrong');
    expect(checked).toBe(0);
  });

  it('the count of a wrong set answered lost: its error (not a wrong-secret answer), the lease let go', async () => {
    const { token } = await issue();
    links.failOnce.add('countFailure');
    expect(await code(use(token, 'WRONG1'))).toBe('InternalServerError: backend down');
    expect(state().lease).toBeUndefined();
    expect(made).toEqual([]);
  });

  it('without a lease (checkSecrets): a count answered lost (not done) writes nothing else', async () => {
    const { token } = await issue();
    const live = await open(token);
    const before = structuredClone(state());
    links.failOnce.add('countFailure');
    expect(await code(checkSecrets(deps, basePolicy, live, { pin: 'WRONG1' }, ip))).toBe('InternalServerError: backend down');
    // The try stays spent (a wrong set was compared); nothing else moved.
    expect(state()).toEqual({ ...before, tries: 1 });
    expect(audits('test.wrong')).toHaveLength(0);
  });

  it('the outside step failing: lease and try back, nothing committed, the retry completes', async () => {
    const { token } = await issue();
    const outside = async () => {
      throw outage('CognitoDown');
    };
    expect(await code(use(token, 'RIGHT1', { outside }))).toBe('CognitoDown: backend down');
    given();
    expect(record().accountId).toBeUndefined();
    expect(await use(token, 'RIGHT1')).toEqual({ accountId: 'acc-new' });
  });

  it('a definite refusal of the commit (link died meanwhile): the outside step undone, lease and try back, the 410', async () => {
    const { token } = await issue();
    const commit: UseSteps<Data>['commit'] = () => {
      throw basePolicy.errors.gone();
    };
    expect(await code(use(token, 'RIGHT1', { commit }))).toBe('test-gone');
    expect(undone).toEqual(['acc-new']);
    given();
  });

  it('username taken at commit: definite, undone, lease and try back', async () => {
    const { token } = await issue();
    store.complete = async () => {
      throw new DomainError('conflict', 'username-taken', 'taken');
    };
    expect(await code(use(token, 'RIGHT1'))).toBe('username-taken');
    expect(undone).toEqual(['acc-new']);
    given();
  });

  it('the commit answered lost but done: success (a retry would meet a used link), nothing undone', async () => {
    const { token } = await issue();
    store.complete = async (change) => {
      await links.store.complete(change);
      throw outage('InternalServerError');
    };
    expect(await use(token, 'RIGHT1')).toEqual({ accountId: 'acc-new' });
    expect(undone).toEqual([]);
    expect(state()).toMatchObject({ status: 'Used', tries: 1 });
    expect(record().accountId).toBe('acc-new');
  });

  it('the commit failing with an unknown outcome and not done: not undone (a retry completes it), lease and try back', async () => {
    const { token } = await issue();
    links.failOnce.add('complete');
    expect(await code(use(token, 'RIGHT1'))).toBe('InternalServerError: backend down');
    expect(undone).toEqual([]);
    given();
    expect(await use(token, 'RIGHT1')).toEqual({ accountId: 'acc-new' });
    expect(made).toEqual(['acc-new', 'acc-new']);
  });

  it('the commit is conditional on the record as the look-up read it: a record write since costs one retry, which reads afresh', async () => {
    const { token } = await issue();
    const live = await open(token);
    edit({ email: 'new@example.test' });
    expect(await useLink(deps, basePolicy, live, { pin: 'RIGHT1' }, ip, steps())).toEqual({ accountId: 'acc-new' });
    expect(record()).toMatchObject({ accountId: 'acc-new', email: 'new@example.test', version: 3 });
  });

  it('an accountId fixed already (an unfinished earlier commit) is the one the commit completes', async () => {
    const { token } = await issue();
    editState({ accountId: 'acc-earlier' });
    expect(await use(token, 'RIGHT1')).toEqual({ accountId: 'acc-earlier' });
    expect(made).toEqual(['acc-earlier']);
  });

  it('clearThrottle on the completion deletes exactly the listed counters, in the commit', async () => {
    const { token } = await issue();
    const at = { failures: 3, lastFailureAt: now.getTime() };
    throttle.accounts.set('listed-1', at);
    throttle.accounts.set('listed-2', at);
    throttle.accounts.set('kept', at);
    const commit: UseSteps<Data>['commit'] = (rec, st, when, accountId) => ({ ...steps().commit(rec, st, when, accountId), clearThrottle: ['listed-1', 'listed-2'] });
    // A failed commit clears nothing.
    links.failOnce.add('complete');
    await code(use(token, 'RIGHT1', { commit }));
    expect([...throttle.accounts.keys()].sort()).toEqual(['kept', 'listed-1', 'listed-2']);
    await use(token, 'RIGHT1', { commit });
    expect([...throttle.accounts.keys()]).toEqual(['kept']);
  });
});

describe("the guard's counters: read with the link, used once by the guard, then read fresh", () => {
  it('rule 6: the per-link counter at look-up holds the link back (429, nothing compared, try and lease back)', async () => {
    const { token } = await issue(guarded);
    throttle.accounts.set(pinKeys(token).accountKey, { failures: throttlePolicy.freeFailures + 5, lastFailureAt: now.getTime() });
    expect(await code(use(token, 'RIGHT1', {}, guarded))).toBe('too-many-attempts');
    expect(compared).toEqual([]);
    expect(state()).toMatchObject({ tries: 0, failures: 0 });
    expect(state().lease).toBeUndefined();
    // Another link from the same address is not held back.
    const other = await issue(guarded, 'P-2');
    expect(await code(use(other.token, 'RIGHT1', { commit: (r, _s, _a, id) => ({ record: { ...r!, accountId: id }, audit: auditEvent({ id: 'anonymous', sourceIp: ip }, patientTarget('P-2'), 'test.used', now) }) }, guarded))).toBe('ok');
  });

  it('a wrong set under the guard: counted by the link (and audited) and by the sign-in throttle for that link and address', async () => {
    const { token } = await issue(guarded);
    expect(await code(use(token, 'WRONG1', {}, guarded))).toBe('test-wrong');
    expect(state()).toMatchObject({ failures: 1, tries: 1 });
    expect(throttle.accounts.get(pinKeys(token).accountKey)?.failures).toBe(1);
    expect(throttle.addresses.get(pinKeys(token).addressKey)).toBe(1);
  });

  it('the guard decides on what the look-up read (one read per request); a read after it is fresh', async () => {
    const { token } = await issue(guarded);
    const live = await open(token, guarded);
    // Counted by another request after this one's look-up.
    throttle.accounts.set(pinKeys(token).accountKey, { failures: throttlePolicy.freeFailures + 5, lastFailureAt: now.getTime() });
    expect(await useLink(deps, guarded, live, { pin: 'RIGHT1' }, ip, steps())).toEqual({ accountId: 'acc-new' });
  });

  it("a look-up without the guard's read: the guard reads the counters itself", async () => {
    const { token } = await issue(guarded);
    const live = await open(token, basePolicy);
    throttle.accounts.set(pinKeys(token).accountKey, { failures: throttlePolicy.freeFailures + 5, lastFailureAt: now.getTime() });
    expect(await code(useLink(deps, guarded, live, { pin: 'RIGHT1' }, ip, steps()))).toBe('too-many-attempts');
    expect(compared).toEqual([]);
  });

  it('the look-up read answers only the first read of its own two keys; any other read is the store as it is now', async () => {
    const seen: Array<[string, unknown]> = [];
    const reading: LinkPolicy<Data> = {
      ...basePolicy,
      throttle: {
        ...basePolicy.throttle,
        guardCompare: async (d, keys, compare) => {
          const t: ThrottleStore = d.throttle;
          seen.push(['same account, other address', await t.read(keys.accountKey, 'other-address')]);
          seen.push(['other account, same address', await t.read('other-account', keys.addressKey)]);
          seen.push(['its keys', await t.read(keys.accountKey, keys.addressKey)]);
          seen.push(['its keys again', await t.read(keys.accountKey, keys.addressKey)]);
          await compare();
        },
      },
    };
    const { token } = await issue(reading);
    const keys = pinKeys(token);
    const live = await open(token, reading);
    // After the look-up: another request counts failures on every counter.
    const later = { failures: 2, lastFailureAt: now.getTime() };
    throttle.accounts.set(keys.accountKey, later);
    throttle.accounts.set('other-account', later);
    throttle.addresses.set(keys.addressKey, 7);
    throttle.addresses.set('other-address', 9);
    expect(await useLink(deps, reading, live, { pin: 'RIGHT1' }, ip, steps())).toEqual({ accountId: 'acc-new' });
    expect(seen).toEqual([
      ['same account, other address', { account: later, addressFailures: 9 }],
      ['other account, same address', { account: later, addressFailures: 7 }],
      ['its keys', { addressFailures: 0 }],
      ['its keys again', { account: later, addressFailures: 7 }],
    ]);
  });
});
