/**
 * Self-registration (issue 19) and the practice notices: the domain over the real adapter
 * (lambdas/adapters/dynamo-self-registrations.ts) on the in-memory DynamoDB fake. The HTTP flows,
 * the races against DynamoDB Local and the injected failures are in
 * test/integration/self-registration.test.ts and failures-self-registration.test.ts.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoLinks } from '../../../lambdas/adapters/dynamo-links.ts';
import { dynamoSelfRegistrations } from '../../../lambdas/adapters/dynamo-self-registrations.ts';
import { recordKey, toRecord } from '../../../lambdas/adapters/dynamo-store.ts';
import type { Actor } from '../../../lambdas/domain/audit.ts';
import { emailMatchPolicy } from '../../../lambdas/domain/email-match.ts';
import type { EqualTime } from '../../../lambdas/domain/equal-time.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import type { RecordStore } from '../../../lambdas/domain/ports.ts';
import { notifyPractice } from '../../../lambdas/domain/practice-notices.ts';
import {
  approveSelfRegistration,
  listSelfRegistrations,
  rejectSelfRegistration,
  requestSelfRegistration,
  selfRegistrationAccepted,
  verifySelfRegistration,
  type SelfRegistrationDeps,
} from '../../../lambdas/domain/self-registration.ts';
import { defaultSettings } from '../../../lambdas/domain/settings.ts';
import { selfRegistrationDeclinedEmail } from '../../../lambdas/mail/templates.ts';
import type { Settings } from '../../../lambdas/schemas/settings.ts';
import { memoryDynamo } from '../../support/memory-dynamo.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryThrottle } from '../../support/memory-throttle.ts';

const defaults = { practiceName: 'Riverside Clinic', portalUrl: 'https://portal.example.test' };
const staff: Actor = { id: 'frontdesk', sourceIp: '10.0.0.1', staff: { sub: 's-1', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } } };
const noInvite: Actor = { ...staff, staff: { sub: 's-2', roles: ['staff'], permissions: { canInvite: false, autoInvite: false } } };
const form = { firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1980-04-30', email: 'Ada@Example.test', sourceIp: '192.0.2.7' };

/** A fake clock for the floor: work "takes" what the test says; sleeps are recorded. */
function fakeTiming(floorMs = 600) {
  let now = 0;
  const slept: number[] = [];
  const timing: EqualTime = { floorMs, monotonicMs: () => now, sleep: async (ms) => void slept.push(ms) };
  return { timing, slept, advance: (ms: number) => (now += ms) };
}

function harness(settings: Partial<Settings> = { selfRegistration: true, notifyEmail: 'inbox@practice.test' }) {
  const db = memoryDynamo();
  const opts = { db, table: 'records', auditTable: 'audit' };
  const requests = dynamoSelfRegistrations(opts);
  const matches = dynamoLinks<{ emailHash: string }>(emailMatchPolicy, opts);
  const mail = memoryMailer();
  const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
  let now = new Date('2026-11-30T10:00:00Z');
  let current: Partial<Settings> = settings;
  const store = {
    getRecord: async (patientId: string) => {
      const item = (await db.send(new GetCommand({ TableName: 'records', Key: recordKey(patientId) }))).Item;
      return item ? toRecord(item) : undefined;
    },
    getSettings: async () => ({ value: current, version: 1 }),
    appendAudit: async () => undefined,
  } as unknown as RecordStore;
  const timing = fakeTiming();
  const deps: SelfRegistrationDeps & { matches: typeof matches } = {
    store,
    requests,
    matches,
    throttle: memoryThrottle(),
    mailer: mail.mailer,
    clock: () => now,
    settingsDefaults: defaults,
    warn: (msg, fields) => void warnings.push({ msg, fields }),
    timing: timing.timing,
  };
  const tokenOf = (path: string) => {
    const text = mail.sent.at(-1)?.text ?? '';
    return new RegExp(`${path}#token=([A-Za-z0-9_-]+)`).exec(text)?.[1];
  };
  return {
    db,
    deps,
    mail,
    warnings,
    timing,
    tokenOf,
    setSettings: (next: Partial<Settings>) => void (current = next),
    later: (ms: number) => void (now = new Date(now.getTime() + ms)),
  };
}

async function pending(h: ReturnType<typeof harness>, over: Partial<typeof form> = {}) {
  await requestSelfRegistration(h.deps, { ...form, ...over });
  const token = h.tokenOf('/portal/self-register')!;
  expect(await verifySelfRegistration(h.deps, { token, sourceIp: form.sourceIp })).toEqual({ status: 'Pending' });
  const page = await listSelfRegistrations(h.deps, { status: 'Pending', limit: 100 });
  return page.items.find((i) => i.email === (over.email ?? form.email))!;
}

describe('practice notices (issue 19 item 3)', () => {
  it('sends one message to notifyEmail, naming no one; none where it is unset', async () => {
    const h = harness();
    await notifyPractice({ store: h.deps.store, settingsDefaults: defaults, mailer: h.mail.mailer }, 'awaiting-approval');
    expect(h.mail.sent).toHaveLength(1);
    expect(h.mail.sent[0]).toMatchObject({ to: 'inbox@practice.test', subject: 'Riverside Clinic portal: a registration awaits approval' });
    expect(h.mail.sent[0]!.text).toContain('https://portal.example.test/console');
    h.setSettings({ selfRegistration: true });
    await notifyPractice({ store: h.deps.store, settingsDefaults: defaults, mailer: h.mail.mailer }, 'patient-registered');
    expect(h.mail.sent).toHaveLength(1);
  });

  it('a notice that fails to send never throws; the log line holds names only', async () => {
    const h = harness();
    h.mail.fail(true);
    const warnings: Record<string, unknown>[] = [];
    await expect(
      notifyPractice({ store: h.deps.store, settingsDefaults: defaults, mailer: h.mail.mailer, warn: (_m, f) => void warnings.push(f) }, 'patient-registered'),
    ).resolves.toBeUndefined();
    expect(warnings).toEqual([{ notice: 'patient-registered', errorName: 'MessageRejected' }]);
    expect(JSON.stringify(warnings)).not.toContain('@');
  });
});

describe('self-registration request', () => {
  it('the setting off: the unknown-route 404 (no detail), nothing written or sent', async () => {
    const h = harness({ selfRegistration: false });
    const err = await requestSelfRegistration(h.deps, form).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ kind: 'not-found', code: 'not-found', message: '' });
    await expect(verifySelfRegistration(h.deps, { token: 'x', sourceIp: form.sourceIp })).rejects.toMatchObject({ kind: 'not-found' });
    expect(h.mail.sent).toHaveLength(0);
    expect(h.db.table('records').size).toBe(0);
  });

  it('rule 13: a new address, a repeat while unproved, one already waiting and one past its hourly budget: the same answer, each after the floor', async () => {
    const h = harness();
    const answers = [];
    for (let i = 0; i < 5; i++) {
      h.timing.advance(i * 37); // whatever the work took
      answers.push(await requestSelfRegistration(h.deps, form));
      if (i === 1) await verifySelfRegistration(h.deps, { token: h.tokenOf('/portal/self-register')!, sourceIp: form.sourceIp });
    }
    for (const a of answers) expect(a).toEqual(selfRegistrationAccepted);
    // Every request waited out the floor: the sleeps plus the work reach it.
    expect(h.timing.slept).toHaveLength(5);
    // New, replaced (2 links); then waiting: nothing new; then past the budget: nothing.
    expect(h.mail.sent.filter((m) => m.to === form.email.trim())).toHaveLength(2);
  });

  it('a write or SES failure is logged by name and still answered 202 (rule 13); the log holds no address, name or token', async () => {
    const h = harness();
    h.mail.fail(true);
    await expect(requestSelfRegistration(h.deps, form)).resolves.toEqual(selfRegistrationAccepted);
    expect(h.warnings.map((w) => w.msg)).toContain('self-registration link not sent');
    const logged = JSON.stringify(h.warnings);
    for (const phi of ['Ada', 'Lovelace', '1980', 'example.test', form.sourceIp]) expect(logged).not.toContain(phi);
  });

  it('a replaced link is dead (410); an expired one too; the request is never listed before it is proved', async () => {
    const h = harness();
    await requestSelfRegistration(h.deps, form);
    const first = h.tokenOf('/portal/self-register')!;
    await requestSelfRegistration(h.deps, { ...form, firstName: 'Augusta' });
    const second = h.tokenOf('/portal/self-register')!;
    await expect(verifySelfRegistration(h.deps, { token: first, sourceIp: form.sourceIp })).rejects.toMatchObject({ kind: 'gone', code: 'link-gone' });
    expect((await listSelfRegistrations(h.deps, { limit: 100 })).items).toEqual([]);
    h.later(24 * 3_600_000 + 1);
    await expect(verifySelfRegistration(h.deps, { token: second, sourceIp: form.sourceIp })).rejects.toMatchObject({ kind: 'gone', code: 'link-gone' });
  });

  it('verify tells the practice once, with no PHI', async () => {
    const h = harness();
    await pending(h);
    const notices = h.mail.sent.filter((m) => m.to === 'inbox@practice.test');
    expect(notices).toHaveLength(1);
    for (const phi of ['Ada', 'Lovelace', '1980', 'Example.test']) expect(`${notices[0]!.subject}${notices[0]!.text}${notices[0]!.html}`).not.toContain(phi);
  });
});

describe('staff decisions', () => {
  it('approve needs invite permission (rule 28); reject too', async () => {
    const h = harness();
    const r = await pending(h);
    await expect(approveSelfRegistration(h.deps, noInvite, r.requestId, 'P-1')).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(rejectSelfRegistration(h.deps, noInvite, r.requestId, 'no')).rejects.toMatchObject({ kind: 'forbidden' });
  });

  it('approve onto a new record: the record has the request email, an email-match link is emailed, the request is Approved and kept 7 days', async () => {
    const h = harness();
    const r = await pending(h);
    const record = await approveSelfRegistration(h.deps, staff, r.requestId, 'P-NEW');
    expect(record).toMatchObject({ patientId: 'P-NEW', email: 'Ada@Example.test', registration: 'NotRegistered', version: 1 });
    expect(h.tokenOf('/portal/verify')).toBeDefined();
    const approved = (await listSelfRegistrations(h.deps, { status: 'Approved', limit: 100 })).items;
    expect(approved).toEqual([expect.objectContaining({ requestId: r.requestId, patientId: 'P-NEW', decidedBy: 'frontdesk', deleteAt: '2026-12-07T10:00:00.000Z' })]);
    await expect(approveSelfRegistration(h.deps, staff, r.requestId, 'P-OTHER')).rejects.toMatchObject({ kind: 'conflict', code: 'already-decided' });
    h.later(7 * 24 * 3_600_000 + 1);
    expect((await listSelfRegistrations(h.deps, { status: 'Approved', limit: 100 })).items).toEqual([]);
  });

  it('an SES failure after the approval: logged by name, the approval stands', async () => {
    const h = harness();
    const r = await pending(h);
    h.mail.fail(true);
    await expect(approveSelfRegistration(h.deps, staff, r.requestId, 'P-MAIL')).resolves.toMatchObject({ patientId: 'P-MAIL' });
    expect(h.warnings.map((w) => w.msg)).toContain('self-registration approval email not sent');
  });

  it('reject: the decline email names no record and not the reason; the address is free for a new request', async () => {
    const h = harness();
    const r = await pending(h);
    const out = await rejectSelfRegistration(h.deps, staff, r.requestId, 'Record P-9 is someone else');
    expect(out).toMatchObject({ requestId: r.requestId, status: 'Rejected' });
    const told = h.mail.sent.at(-1)!;
    expect(told.to).toBe('Ada@Example.test');
    expect(`${told.subject}${told.text}${told.html}`).not.toMatch(/P-9|record|someone|Ada|Lovelace/i);
    await requestSelfRegistration(h.deps, form);
    expect(h.tokenOf('/portal/self-register')).toBeDefined();
  });
});

describe('mail', () => {
  it('the decline email is the same for everyone: it depends on the practice name only', () => {
    const a = selfRegistrationDeclinedEmail({ practiceName: 'Riverside Clinic' });
    expect(a.text).toContain('could not set one up');
    expect(a.text).toContain('call Riverside Clinic');
    expect(defaultSettings(defaults).selfRegistration).toBe(false);
  });
});
