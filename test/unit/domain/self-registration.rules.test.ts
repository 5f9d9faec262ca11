/**
 * Self-registration (issue 19): the rules the flow protects, each with its hostile case beside the
 * happy one — the address and source throttles (rules 6, 13), the link's life (rules 9, 11), who
 * may decide (rule 28), what a decision may do to a record (rule 29, no takeover of a login), and
 * that nothing of the person reaches a log or an audit entry (rule 20).
 */
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  approveSelfRegistration,
  isLive,
  listSelfRegistrations,
  presentRequest,
  rejectSelfRegistration,
  requestEmailHash,
  requestSelfRegistration,
  selfRegistrationAccepted,
  selfRegistrationKeys,
  selfRegistrationLimits,
  verifySelfRegistration,
  type StoredRequest,
} from '../../../lambdas/domain/self-registration.ts';
import { form, selfRegWorld, staff, type SelfRegWorld } from './self-registration-harness.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof DomainError ? `${e.kind}/${e.code}` : `thrown ${String(e)}`));
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as DomainError);

async function stored(w: SelfRegWorld, email = form.email): Promise<StoredRequest | undefined> {
  const open = await w.requests.openRequest(requestEmailHash(email));
  return open ? w.requests.get(open.requestId) : undefined;
}

async function pending(w: SelfRegWorld, over: Partial<typeof form> = {}) {
  await requestSelfRegistration(w.deps, { ...form, ...over });
  const token = w.tokenOf('/portal/self-register')!;
  await verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp });
  return (await stored(w, over.email ?? form.email))!;
}

describe('rules 9, 13: a request', () => {
  it('stores the form as typed (email trimmed, phone when given), Unverified, its link alive 24 h and the request with it; emails the link to the trimmed address', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, { ...form, phone: '+15555550123' });
    const r = (await stored(w))!;
    expect(r).toMatchObject({
      status: 'Unverified',
      firstName: 'Ada',
      lastName: 'Lovelace',
      dateOfBirth: '1980-04-30',
      email: 'Ada@Example.test',
      emailHash: requestEmailHash('ada@example.test'),
      phone: '+15555550123',
      createdAt: w.clock().toISOString(),
      updatedAt: w.clock().toISOString(),
      linkExpiresAt: new Date(w.clock().getTime() + DAY).toISOString(),
      deleteAt: new Date(w.clock().getTime() + DAY).toISOString(),
      version: 1,
    });
    expect(w.mail.sent.at(-1)?.to).toBe('Ada@Example.test');
    expect(w.mail.sent.at(-1)?.text).toContain('https://portal.example.test/portal/self-register#token=');
    await requestSelfRegistration(w.deps, { ...form, email: 'b@example.test' });
    expect(await stored(w, 'b@example.test')).not.toHaveProperty('phone');
  });

  it('a second request for an unproved address replaces it: same request, next version, new data, the old link dead', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    const first = (await stored(w))!;
    const oldToken = w.tokenOf('/portal/self-register')!;
    w.later(60_000);
    await requestSelfRegistration(w.deps, { ...form, firstName: 'Augusta' });
    const second = (await stored(w))!;
    expect(second).toMatchObject({ requestId: first.requestId, version: 2, firstName: 'Augusta' });
    expect(second.tokenHash).not.toBe(first.tokenHash);
    expect(await w.requests.findLink(first.tokenHash!)).toBeUndefined();
    expect(await codeOf(verifySelfRegistration(w.deps, { token: oldToken, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
  });

  it('an expired open request does not hold the address: a new request starts afresh', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    const first = (await stored(w))!;
    w.later(DAY + 1);
    await requestSelfRegistration(w.deps, form);
    const second = (await stored(w))!;
    expect(second.requestId).not.toBe(first.requestId);
    expect(second.version).toBe(1);
  });

  it('rule 13: past 3 requests an hour for one address nothing more is sent (the same 202); the next hour it is', async () => {
    const w = selfRegWorld();
    for (let i = 0; i < 5; i++) expect(await requestSelfRegistration(w.deps, form)).toEqual(selfRegistrationAccepted);
    expect(w.mail.sent).toHaveLength(selfRegistrationLimits.requestsPerEmailPerHour);
    w.later(HOUR);
    await requestSelfRegistration(w.deps, form);
    expect(w.mail.sent).toHaveLength(4);
  });

  it('rule 6: past the source address budget: 429 with the wait to the window\'s end; another address is not affected', async () => {
    const w = selfRegWorld();
    const keys = selfRegistrationKeys(requestEmailHash(form.email), form.sourceIp, w.clock());
    w.throttle.addresses.set(keys.addressKey, selfRegistrationLimits.requestsPerAddressPerWindow);
    const err = await errorOf(requestSelfRegistration(w.deps, form));
    expect(err).toMatchObject({ kind: 'too-many-requests', code: 'too-many-attempts' });
    // 10:00:00 is the start of a 15-minute window: the whole window is left.
    expect(err?.extra.retryAfterSeconds).toBe(900);
    w.later(61_000);
    const later = selfRegistrationKeys(requestEmailHash(form.email), form.sourceIp, w.clock());
    w.throttle.addresses.set(later.addressKey, selfRegistrationLimits.requestsPerAddressPerWindow);
    expect((await errorOf(requestSelfRegistration(w.deps, form)))?.extra.retryAfterSeconds).toBe(839);
    expect(w.mail.sent).toEqual([]);
    w.throttle.addresses.set(later.addressKey, selfRegistrationLimits.requestsPerAddressPerWindow - 1);
    expect(await requestSelfRegistration(w.deps, form)).toEqual(selfRegistrationAccepted);
    expect(w.mail.sent).toHaveLength(1);
  });

  it('the throttle keys are hashes of the address and source, per hour and window', () => {
    const now = new Date('2026-11-30T10:00:00.000Z');
    const a = selfRegistrationKeys('t', '192.0.2.7', now);
    expect(JSON.stringify(a)).not.toContain('192.0.2.7');
    expect(selfRegistrationKeys('t', '192.0.2.7', new Date(now.getTime() + 14 * 60_000))).toEqual(a);
    expect(selfRegistrationKeys('t', '192.0.2.7', new Date(now.getTime() + 15 * 60_000)).addressKey).not.toBe(a.addressKey);
    expect(selfRegistrationKeys('t', '192.0.2.7', new Date(now.getTime() + 59 * 60_000)).accountKey).toBe(a.accountKey);
    expect(selfRegistrationKeys('t', '192.0.2.7', new Date(now.getTime() + HOUR)).accountKey).not.toBe(a.accountKey);
    expect(selfRegistrationKeys('u', '192.0.2.7', now).accountKey).not.toBe(a.accountKey);
    expect(selfRegistrationKeys('t', '192.0.2.8', now).addressKey).not.toBe(a.addressKey);
  });

  it('rule 13: work past the floor is logged with numbers only; within it nothing is logged', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    expect(w.warnings).toEqual([]);
    w.workTakes(700);
    await requestSelfRegistration(w.deps, { ...form, email: 'b@example.test' });
    expect(w.warnings).toEqual([{ msg: 'self-registration request overran its time floor', fields: { spentMs: 700, floorMs: 600 } }]);
  });

  it('a failure is logged by its name (a DomainError by its code, a non-Error as "unknown") and still answered 202', async () => {
    const w = selfRegWorld();
    const conflict = { ...w.requests, write: async () => Promise.reject(new DomainError('conflict', 'version-conflict', 'x')) };
    expect(await requestSelfRegistration({ ...w.deps, requests: conflict }, form)).toEqual(selfRegistrationAccepted);
    const odd = { ...w.requests, write: async () => Promise.reject('no') };
    expect(await requestSelfRegistration({ ...w.deps, requests: odd }, { ...form, email: 'c@example.test' })).toEqual(selfRegistrationAccepted);
    expect(w.warnings.map((x) => x.fields.errorName)).toEqual(['version-conflict', 'unknown']);
    const { warn: _w, ...quiet } = w.deps;
    expect(await requestSelfRegistration({ ...quiet, requests: odd }, { ...form, email: 'd@example.test' })).toEqual(selfRegistrationAccepted);
  });
});

describe('rules 11, 6: the confirmation link', () => {
  it('verifies once: Pending for 30 days, the link state dropped, audited without PHI; a second use is 410 and counted', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    const token = w.tokenOf('/portal/self-register')!;
    w.later(60_000);
    expect(await verifySelfRegistration(w.deps, { token, sourceIp: '198.51.100.3' })).toEqual({ status: 'Pending' });
    const r = (await stored(w))!;
    expect(r).toMatchObject({ status: 'Pending', verifiedAt: w.clock().toISOString(), updatedAt: w.clock().toISOString(), deleteAt: new Date(w.clock().getTime() + 30 * DAY).toISOString(), version: 2 });
    expect(r).not.toHaveProperty('tokenHash');
    expect(r).not.toHaveProperty('linkExpiresAt');
    const audit = w.audits().find((a) => a.action === 'self-registration.verified')!;
    expect(audit).toMatchObject({ target: `self-registration:${r.requestId}`, actor: 'anonymous', sourceIp: '198.51.100.3', detail: { pendingDays: 30 } });
    // The request id is a random UUID: its hex can spell "ada" (about 1 run in 130) or "1980", so it
    // is masked before looking for the person's data (this assertion once failed that way).
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
    expect(JSON.stringify(w.audits()).replace(uuid, '<id>')).not.toMatch(/Ada|Lovelace|1980|example\.test/i);
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: '198.51.100.3' }))).toBe('gone/link-gone');
    expect([...w.throttle.addresses.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  });

  it('a link past its 24 h (the request still kept) is 410; one second before, it works', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    const token = w.tokenOf('/portal/self-register')!;
    w.later(DAY - 1);
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('no error');
    const w2 = selfRegWorld();
    await requestSelfRegistration(w2.deps, form);
    const r = (await stored(w2))!;
    // The request kept longer than its link (as a replaced request is): the link's own expiry decides.
    await w2.requests.write({ request: { next: { ...r, deleteAt: new Date(w2.clock().getTime() + 2 * DAY).toISOString(), version: r.version + 1 }, previous: r } });
    w2.later(DAY);
    expect(await codeOf(verifySelfRegistration(w2.deps, { token: w2.tokenOf('/portal/self-register')!, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
  });

  it('a request with no link expiry, or whose link is another token, is 410', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    const token = w.tokenOf('/portal/self-register')!;
    const r = (await stored(w))!;
    const { linkExpiresAt: _l, ...bare } = r;
    await w.requests.write({ request: { next: { ...bare, version: r.version + 1 }, previous: r } });
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
    const r2 = (await stored(w))!;
    await w.requests.write({ request: { next: { ...r2, linkExpiresAt: r.linkExpiresAt!, tokenHash: 'other', version: r2.version + 1 }, previous: r2 } });
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
  });

  it('rule 6: past the source budget of dead links: 429 before anything is looked up', async () => {
    const w = selfRegWorld();
    const token = 'A'.repeat(43);
    const { sha256 } = await import('../../../lambdas/domain/secrets.ts');
    const keys = selfRegistrationKeys(`link:${sha256(token)}`, form.sourceIp, w.clock());
    w.throttle.addresses.set(keys.addressKey, selfRegistrationLimits.requestsPerAddressPerWindow);
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('too-many-requests/too-many-attempts');
    w.throttle.addresses.set(keys.addressKey, selfRegistrationLimits.requestsPerAddressPerWindow - 1);
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
    expect(w.throttle.addresses.get(keys.addressKey)).toBe(selfRegistrationLimits.requestsPerAddressPerWindow);
  });

  it('two opens at once: the loser (a version conflict) sees the used link; another failure is passed on', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    const token = w.tokenOf('/portal/self-register')!;
    const conflict = { ...w.requests, write: async () => Promise.reject(new DomainError('conflict', 'version-conflict', 'x')) };
    expect(await codeOf(verifySelfRegistration({ ...w.deps, requests: conflict }, { token, sourceIp: form.sourceIp }))).toBe('gone/link-gone');
    const other = { ...w.requests, write: async () => Promise.reject(new DomainError('conflict', 'other', 'x')) };
    expect(await codeOf(verifySelfRegistration({ ...w.deps, requests: other }, { token, sourceIp: form.sourceIp }))).toBe('conflict/other');
    const down = { ...w.requests, write: async () => Promise.reject(new Error('down')) };
    expect(await codeOf(verifySelfRegistration({ ...w.deps, requests: down }, { token, sourceIp: form.sourceIp }))).toBe('thrown Error: down');
    expect(await codeOf(verifySelfRegistration(w.deps, { token, sourceIp: form.sourceIp }))).toBe('no error');
  });

  it('verify tells the practice, and a warn sink is optional', async () => {
    const w = selfRegWorld({ selfRegistration: true, notifyEmail: 'inbox@practice.test' });
    w.mail.fail(false);
    await requestSelfRegistration(w.deps, form);
    const token = w.tokenOf('/portal/self-register')!;
    const { warn: _w, ...quiet } = w.deps;
    w.mail.fail(true);
    expect(await verifySelfRegistration(quiet, { token, sourceIp: form.sourceIp })).toEqual({ status: 'Pending' });
    const w2 = selfRegWorld({ selfRegistration: true, notifyEmail: 'inbox@practice.test' });
    await requestSelfRegistration(w2.deps, form);
    const token2 = w2.tokenOf('/portal/self-register')!;
    w2.mail.fail(true);
    await verifySelfRegistration(w2.deps, { token: token2, sourceIp: form.sourceIp });
    expect(w2.warnings.map((x) => x.fields)).toEqual([{ notice: 'awaiting-approval', errorName: 'MessageRejected' }]);
  });
});

describe('the staff list', () => {
  it('Pending by default; expired and other statuses never shown; the cursor passed on', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    expect((await listSelfRegistrations(w.deps, { limit: 100 })).items.map((i) => i.requestId)).toEqual([r.requestId]);
    expect((await listSelfRegistrations(w.deps, { status: 'Rejected', limit: 100 })).items).toEqual([]);
    const page = await listSelfRegistrations({ ...w.deps, requests: { ...w.requests, list: async () => ({ items: [r, { ...r, status: 'Approved' }], cursor: 'c-1' }) } }, { limit: 1 });
    expect(page).toEqual({ items: [presentRequest(r)], cursor: 'c-1' });
    const noCursor = await listSelfRegistrations({ ...w.deps, requests: { ...w.requests, list: async () => ({ items: [] }) } }, { limit: 1 });
    expect(noCursor).toEqual({ items: [] });
    w.later(30 * DAY);
    expect((await listSelfRegistrations(w.deps, { limit: 100 })).items).toEqual([]);
  });

  it('presentRequest: an Unverified request reads Pending; no hash, no link state; optional fields only when set', () => {
    const base: StoredRequest = {
      requestId: 'r-1',
      status: 'Unverified',
      firstName: 'Ada',
      lastName: 'L',
      dateOfBirth: '1980-04-30',
      email: 'a@example.test',
      emailHash: 'h',
      createdAt: '2026-11-30T10:00:00.000Z',
      updatedAt: '2026-11-30T10:00:00.000Z',
      tokenHash: 't',
      linkExpiresAt: '2026-12-01T10:00:00.000Z',
      deleteAt: '2026-12-01T10:00:00.000Z',
      version: 1,
    };
    expect(presentRequest(base)).toEqual({
      requestId: 'r-1',
      firstName: 'Ada',
      lastName: 'L',
      dateOfBirth: '1980-04-30',
      email: 'a@example.test',
      status: 'Pending',
      createdAt: '2026-11-30T10:00:00.000Z',
      deleteAt: '2026-12-01T10:00:00.000Z',
    });
    const full = { ...base, status: 'Rejected' as const, phone: '+15555550123', verifiedAt: 'v', decidedAt: 'd', decidedBy: 'b', patientId: 'P-1', reason: 'why' };
    expect(presentRequest(full)).toMatchObject({ status: 'Rejected', phone: '+15555550123', verifiedAt: 'v', decidedAt: 'd', decidedBy: 'b', patientId: 'P-1', reason: 'why' });
    expect(isLive(base, new Date('2026-12-01T10:00:00.000Z'))).toBe(false);
    expect(isLive(base, new Date('2026-12-01T09:59:59.999Z'))).toBe(true);
    expect(isLive(undefined, new Date(0))).toBe(false);
  });
});

describe('rules 28, 29: deciding', () => {
  it('an unknown, an unproved or an expired request: 404; a decided one: 409 already-decided', async () => {
    const w = selfRegWorld();
    expect(await codeOf(approveSelfRegistration(w.deps, staff, 'nope', 'P-1'))).toBe('not-found/not-found');
    await requestSelfRegistration(w.deps, form);
    const unproved = (await stored(w))!;
    expect(await codeOf(approveSelfRegistration(w.deps, staff, unproved.requestId, 'P-1'))).toBe('not-found/not-found');
    expect(await codeOf(rejectSelfRegistration(w.deps, staff, unproved.requestId, 'x'))).toBe('not-found/not-found');
    const r = await pending(w, { email: 'b@example.test' });
    await rejectSelfRegistration(w.deps, staff, r.requestId, 'no');
    expect(await codeOf(approveSelfRegistration(w.deps, staff, r.requestId, 'P-1'))).toBe('conflict/already-decided');
    expect(await codeOf(rejectSelfRegistration(w.deps, staff, r.requestId, 'no'))).toBe('conflict/already-decided');
  });

  it('rule 29: a record with a login is never given to the request (409 already-registered); access off: 409; nothing written', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    await w.seed('P-1', { accountId: 'acc-1', username: 'someone', email: 'someone@example.test' });
    expect(await codeOf(approveSelfRegistration(w.deps, staff, r.requestId, 'P-1'))).toBe('conflict/already-registered');
    expect((await w.record('P-1'))?.email).toBe('someone@example.test');
    await w.seed('P-2', { accessEnabled: false });
    expect(await codeOf(approveSelfRegistration(w.deps, staff, r.requestId, 'P-2'))).toBe('conflict/access-disabled');
    expect((await stored(w))?.status).toBe('Pending');
  });

  it('a registration under way on the record (a live lease on its email-match link): 409; a lapsed lease does not hold it', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    await w.seed('P-1', { email: 'old@example.test' });
    const lease = (until: string) => ({ linkId: 'l-0', status: 'Pending', failures: 0, expiresAt: '2026-12-01T10:00:00.000Z', createdAt: '2026-11-30T09:00:00.000Z', version: 3, lease: { id: 'x', until } });
    await w.putMatchState('P-1', lease(new Date(w.clock().getTime() + 1000).toISOString()));
    expect(await codeOf(approveSelfRegistration(w.deps, staff, r.requestId, 'P-1'))).toBe('conflict/registration-in-progress');
    await w.putMatchState('P-1', { ...lease(w.clock().toISOString()), accountId: 'acc-fixed' });
    expect(await codeOf(approveSelfRegistration(w.deps, staff, r.requestId, 'P-1'))).toBe('no error');
    expect((await w.matches.get('P-1'))?.accountId).toBe('acc-fixed');
  });

  it('approve onto an existing record: its email becomes the request\'s (generation bumped), audited with what changed; the email-match link emailed', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    const before = await w.seed('P-1', { email: 'old@example.test', version: 4 });
    w.later(1000);
    const out = await approveSelfRegistration(w.deps, staff, r.requestId, 'P-1');
    expect(out).toMatchObject({ patientId: 'P-1', email: 'Ada@Example.test', version: 5, updatedAt: w.clock().toISOString() });
    const after = (await w.record('P-1'))!;
    expect(after.linkGeneration ?? 0).toBeGreaterThan(before.linkGeneration ?? 0);
    expect(w.audits().find((a) => a.action === 'self-registration.approved')).toMatchObject({
      target: 'patient:P-1',
      actor: 'frontdesk',
      detail: { requestId: r.requestId, recordCreated: false, changed: ['email'], linkHours: 24 },
    });
    expect(await stored(w)).toBeUndefined();
    const decided = (await w.requests.get(r.requestId))!;
    expect(decided).toMatchObject({ status: 'Approved', patientId: 'P-1', decidedBy: 'frontdesk', decidedAt: w.clock().toISOString(), deleteAt: new Date(w.clock().getTime() + 7 * DAY).toISOString(), version: r.version + 1 });
    expect(w.mail.sent.at(-1)).toMatchObject({ to: 'Ada@Example.test' });
    expect(w.mail.sent.at(-1)?.text).toContain('https://portal.example.test/portal/verify#token=');
  });

  it('approve onto a new record: created, audited as created', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    await approveSelfRegistration(w.deps, staff, r.requestId, 'P-NEW');
    expect(w.audits().find((a) => a.action === 'self-registration.approved')?.detail).toMatchObject({ recordCreated: true });
  });

  it('an approval email SES refused: warned by name, audited as a failure on the record; the approval stands', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    w.mail.fail(true);
    await approveSelfRegistration(w.deps, staff, r.requestId, 'P-1');
    expect(w.warnings).toContainEqual({ msg: 'self-registration approval email not sent', fields: { errorName: 'MessageRejected' } });
    expect(w.appended).toContainEqual(expect.objectContaining({ action: 'self-registration.approval-email-failed', outcome: 'failure', target: 'patient:P-1', detail: { requestId: r.requestId } }));
    const w2 = selfRegWorld();
    const r2 = await pending(w2);
    w2.mail.fail(true);
    const { warn: _w, ...quiet } = w2.deps;
    const broken = { ...quiet, store: { ...quiet.store, appendAudit: async () => Promise.reject(new Error('audit down')) } };
    expect(await codeOf(approveSelfRegistration(broken, staff, r2.requestId, 'P-1'))).toBe('no error');
  });

  it('reject: the reason trimmed and kept with the request, the audit names only its length; the decline email failing is warned', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    w.mail.fail(true);
    const out = await rejectSelfRegistration(w.deps, staff, r.requestId, '  not our patient  ');
    expect(out).toEqual({ requestId: r.requestId, status: 'Rejected', deleteAt: new Date(w.clock().getTime() + 7 * DAY).toISOString() });
    expect(await w.requests.get(r.requestId)).toMatchObject({ status: 'Rejected', reason: 'not our patient', decidedBy: 'frontdesk' });
    const audit = w.audits().find((a) => a.action === 'self-registration.rejected')!;
    expect(audit).toMatchObject({ target: `self-registration:${r.requestId}`, actor: 'frontdesk', detail: { reasonLength: 15 } });
    expect(JSON.stringify(audit)).not.toContain('patient');
    expect(w.warnings).toContainEqual({ msg: 'self-registration decline email not sent', fields: { errorName: 'MessageRejected' } });
    const w2 = selfRegWorld();
    const r2 = await pending(w2);
    w2.mail.fail(true);
    const { warn: _w, ...quiet } = w2.deps;
    expect(await codeOf(rejectSelfRegistration(quiet, staff, r2.requestId, 'x'))).toBe('no error');
  });

  it('a concurrent decision (version conflict) is retried on a fresh read: the loser sees already-decided', async () => {
    const w = selfRegWorld();
    const r = await pending(w);
    let first = true;
    const racing = {
      ...w.requests,
      write: async (change: Parameters<typeof w.requests.write>[0]) => {
        if (first) {
          first = false;
          await rejectSelfRegistration(w.deps, staff as Actor, r.requestId, 'other staff');
        }
        return w.requests.write(change);
      },
    };
    expect(await codeOf(approveSelfRegistration({ ...w.deps, requests: racing }, staff, r.requestId, 'P-1'))).toBe('conflict/already-decided');
    expect(await w.record('P-1')).toBeUndefined();
  });
});
