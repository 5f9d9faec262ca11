/**
 * Self-registration (issue 19/20): the rules self-registration.test.ts and the rules tests leave
 * open to a mutant — how long an address stays held (the claim on verify, its release on approve),
 * that a link works only for an unproved request (rule 11) whatever the store still holds, the
 * 429's wait rounded up (rule 6), the email-match link bound to the request's address (rule 29),
 * and the link built on a portal URL with trailing slashes.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoLinks } from '../../../lambdas/adapters/dynamo-links.ts';
import { dynamoSelfRegistrations } from '../../../lambdas/adapters/dynamo-self-registrations.ts';
import { recordKey, toRecord } from '../../../lambdas/adapters/dynamo-store.ts';
import type { Actor } from '../../../lambdas/domain/audit.ts';
import { emailHash as emailMatchHash, emailMatchPolicy } from '../../../lambdas/domain/email-match.ts';
import type { EqualTime } from '../../../lambdas/domain/equal-time.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import type { RecordStore } from '../../../lambdas/domain/ports.ts';
import {
  approveSelfRegistration,
  requestEmailHash,
  requestSelfRegistration,
  selfRegisterLink,
  selfRegistrationKeys,
  selfRegistrationLimits,
  verifySelfRegistration,
  type SelfRegistrationDeps,
  type StoredRequest,
} from '../../../lambdas/domain/self-registration.ts';
import { memoryDynamo } from '../../support/memory-dynamo.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const defaults = { practiceName: 'Riverside Clinic', portalUrl: 'https://portal.example.test' };
const staff: Actor = { id: 'frontdesk', sourceIp: '10.0.0.1', staff: { sub: 's-1', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } } };
const form = { firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1980-04-30', email: 'Ada@Example.test', sourceIp: '192.0.2.7' };
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof DomainError ? `${e.kind}/${e.code}` : `thrown ${String(e)}`));

/** The domain over the real adapter on the in-memory DynamoDB (as in self-registration.test.ts). */
function world() {
  const db = memoryDynamo();
  const opts = { db, table: 'records', auditTable: 'audit' };
  const requests = dynamoSelfRegistrations(opts);
  const matches = dynamoLinks<{ emailHash: string }>(emailMatchPolicy, opts);
  const mail = memoryMailer();
  let now = new Date('2026-11-30T10:00:00.000Z');
  const store = {
    getRecord: async (patientId: string) => {
      const item = (await db.send(new GetCommand({ TableName: 'records', Key: recordKey(patientId) }))).Item;
      return item ? toRecord(item) : undefined;
    },
    getSettings: async () => ({ value: { selfRegistration: true }, version: 1 }),
    appendAudit: async () => undefined,
  } as unknown as RecordStore;
  const timing: EqualTime = { floorMs: 600, monotonicMs: () => 0, sleep: async () => undefined };
  const throttle = memoryThrottleState();
  const deps: SelfRegistrationDeps & { matches: typeof matches } = {
    store,
    requests,
    matches,
    throttle: throttle.store,
    mailer: mail.mailer,
    clock: () => now,
    settingsDefaults: defaults,
    timing,
  };
  const tokenOf = () => /\/portal\/self-register#token=([A-Za-z0-9_-]+)/.exec(mail.sent.at(-1)?.text ?? '')?.[1];
  const open = async (email = form.email) => {
    const claim = await requests.openRequest(requestEmailHash(email));
    return claim ? requests.get(claim.requestId) : undefined;
  };
  const pending = async () => {
    await requestSelfRegistration(deps, form);
    await verifySelfRegistration(deps, { token: tokenOf()!, sourceIp: form.sourceIp });
    return (await open())!;
  };
  return { db, deps, requests, matches, mail, throttle, tokenOf, open, pending, clock: () => now, later: (ms: number) => void (now = new Date(now.getTime() + ms)) };
}

describe('the address held by its request', () => {
  it('a proved request holds its address for its 30 days: a request for it two days later sends nothing and keeps the waiting request', async () => {
    const w = world();
    const r = await w.pending();
    const mails = w.mail.sent.length;
    w.later(2 * DAY);
    await requestSelfRegistration(w.deps, { ...form, firstName: 'Mallory' });
    expect(w.mail.sent).toHaveLength(mails);
    expect(await w.open()).toMatchObject({ requestId: r.requestId, status: 'Pending', firstName: 'Ada' });
    // Hostile twin: another address is not held by it.
    await requestSelfRegistration(w.deps, { ...form, email: 'b@example.test' });
    expect(w.mail.sent).toHaveLength(mails + 1);
  });

  it('approval frees the address: a new request for it gets a link, and is a new request', async () => {
    const w = world();
    const r = await w.pending();
    await approveSelfRegistration(w.deps, staff, r.requestId, 'P-1');
    const mails = w.mail.sent.length;
    await requestSelfRegistration(w.deps, form);
    expect(w.mail.sent).toHaveLength(mails + 1);
    expect(w.tokenOf()).toBeDefined();
    const again = (await w.open())!;
    expect(again).toMatchObject({ status: 'Unverified', version: 1 });
    expect(again.requestId).not.toBe(r.requestId);
  });

  it('the claim decides, not the request item: a claim that has run out (to the millisecond) does not pull its request back in', async () => {
    const w = world();
    await requestSelfRegistration(w.deps, form);
    const first = (await w.open())!;
    // The request item kept longer than the address's claim (a claim written by an older version, say).
    const later = new Date(w.clock().getTime() + 3 * DAY).toISOString();
    await w.requests.write({ request: { next: { ...first, deleteAt: later, version: first.version + 1 }, previous: first } });
    w.later(DAY); // the claim's deleteAt is exactly now
    await requestSelfRegistration(w.deps, { ...form, firstName: 'Augusta' });
    const second = (await w.open())!;
    expect(second.requestId).not.toBe(first.requestId);
    expect(second).toMatchObject({ version: 1, firstName: 'Augusta' });
    // The old request was not replaced: its data is as it was.
    expect(await w.requests.get(first.requestId)).toMatchObject({ firstName: 'Ada', version: first.version + 1 });
  });
  it('a request item past its own deleteAt is never brought back, even while the claim still names it (TTL is lazy)', async () => {
    const w = world();
    await requestSelfRegistration(w.deps, form);
    const first = (await w.open())!;
    // The request item ends before the address's claim (24 h): DynamoDB's TTL is lazy, so the item may still be read.
    const soon = new Date(w.clock().getTime() + HOUR).toISOString();
    await w.requests.write({ request: { next: { ...first, deleteAt: soon, version: first.version + 1 }, previous: first } });
    w.later(2 * HOUR);
    await requestSelfRegistration(w.deps, { ...form, firstName: 'Augusta' });
    // Not replaced in place: the expired item keeps its old data and deleteAt; no live request under its id.
    expect(await w.requests.get(first.requestId)).toMatchObject({ firstName: 'Ada', version: first.version + 1, deleteAt: soon });
  });
});

describe('rule 11: a link works only for an unproved request', () => {
  it('a Pending request whose link pointer and hash the store still holds: 410, the request untouched', async () => {
    const w = world();
    await requestSelfRegistration(w.deps, form);
    const token = w.tokenOf()!;
    const r = (await w.open())!;
    // What a half-applied verification would leave: Pending, yet the link state and pointer still there.
    const stale: StoredRequest = { ...r, status: 'Pending', verifiedAt: w.clock().toISOString(), version: r.version + 1 };
    await w.requests.write({ request: { next: stale, previous: r } });
    expect(await w.requests.findLink(r.tokenHash!)).toBeDefined();
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
    expect(await w.requests.get(r.requestId)).toMatchObject({ status: 'Pending', version: stale.version });
    // Happy twin: the same link on the Unverified request works.
    const w2 = world();
    await requestSelfRegistration(w2.deps, form);
    expect(await codeOf(verifySelfRegistration(w2.deps, { token: w2.tokenOf()!, sourceIp: form.sourceIp }))).toBe('no error');
  });

  it('a link whose request item has passed its deleteAt is 410 even though the link itself has hours left', async () => {
    const w = world();
    await requestSelfRegistration(w.deps, form);
    const token = w.tokenOf()!;
    const r = (await w.open())!;
    await w.requests.write({ request: { next: { ...r, deleteAt: new Date(w.clock().getTime() + HOUR).toISOString(), version: r.version + 1 }, previous: r } });
    w.later(2 * HOUR);
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
  });
});

describe('rule 6: the 429 wait', () => {
  it('is rounded up to whole seconds: 838.5 s left reads 839', async () => {
    const w = world();
    w.later(61_500);
    const keys = selfRegistrationKeys(requestEmailHash(form.email), form.sourceIp, w.clock());
    w.throttle.addresses.set(keys.addressKey, selfRegistrationLimits.requestsPerAddressPerWindow);
    const err = await requestSelfRegistration(w.deps, form).then(
      () => undefined,
      (e: unknown) => e as DomainError,
    );
    expect(err).toMatchObject({ kind: 'too-many-requests' });
    expect(err?.extra.retryAfterSeconds).toBe(839);
  });
});

describe('rule 29: the email-match link approval issues', () => {
  it('is bound to the request\'s address (its hash), not to any other', async () => {
    const w = world();
    const r = await w.pending();
    await approveSelfRegistration(w.deps, staff, r.requestId, 'P-1');
    const link = await w.matches.get('P-1');
    expect(link?.data?.emailHash).toBe(emailMatchHash(form.email));
    expect(link?.data?.emailHash).not.toBe(emailMatchHash('other@example.test'));
  });
});

describe('the confirmation link', () => {
  it('drops every trailing slash of the portal URL and encodes the token', () => {
    expect(selfRegisterLink('https://portal.example.test//', 'a b')).toBe('https://portal.example.test/portal/self-register#token=a%20b');
    expect(selfRegisterLink('https://portal.example.test/', 't')).toBe('https://portal.example.test/portal/self-register#token=t');
    expect(selfRegisterLink('https://portal.example.test/app', 't')).toBe('https://portal.example.test/app/portal/self-register#token=t');
  });
});
