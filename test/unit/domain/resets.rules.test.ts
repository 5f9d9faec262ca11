/**
 * Mutation-testing rules for lambdas/domain/resets.ts (issue 20): the PIN and the username are
 * each checked (one right and the other one character off is refused), a wrong pair counts
 * against the source address, and the 3-an-hour email limit. Through requestReset/confirmReset.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink, PatientLogins } from '../../../lambdas/domain/ports.ts';
import { confirmReset, MAX_RESET_EMAILS_PER_HOUR, MAX_RESET_FAILURES, requestReset, resetPolicy, staffReset, type ResetConfirmDeps, type ResetData } from '../../../lambdas/domain/resets.ts';
import { memoryLinks } from '../../support/memory-links.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';
import { outcome } from '../../support/domain-outcome.ts';

const practice = { practiceName: 'Maple Clinic', portalUrl: 'https://portal.maple.test/' };
const newPassword = 'quartz meadow harbor kettle';
const sourceIp = '198.51.100.1';

function harness() {
  const mem = memoryStore();
  const usernames = new Map<string, AccountLink>();
  const resets = memoryLinks<ResetData>(mem, usernames, resetPolicy);
  const mail = memoryMailer();
  const passwords = new Map<string, string>();
  const logins: Pick<PatientLogins, 'setPassword' | 'signOutEverywhere'> = {
    async setPassword(id, password) {
      passwords.set(id, password);
    },
    async signOutEverywhere() {},
  };
  let now = new Date('2026-11-21T10:00:00.000Z');
  const throttle = memoryThrottleState();
  const deps: ResetConfirmDeps = {
    store: mem.store,
    accounts: { findByUsername: async (u) => usernames.get(u.trim().toLowerCase()) },
    resets: resets.store,
    logins,
    throttle: throttle.store,
    mailer: mail.mailer,
    clock: () => now,
    settingsDefaults: practice,
  };
  const record: StoredRecord = {
    patientId: 'P-1',
    accountId: 'acc-P-1',
    username: 'Maple.Lee',
    email: 'p-1@example.test',
    accessEnabled: true,
    cases: [],
    registration: 'NormalRegistration',
    invite: { status: 'Accepted' },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    version: 1,
  };
  mem.docs.set('patient:P-1', { value: record, version: 1 });
  usernames.set('maple.lee', { accountId: 'acc-P-1', patientId: 'P-1' });
  const lastMail = () => {
    const text = mail.sent.at(-1)?.text ?? '';
    return { token: /#token=([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '', pin: /PIN: ([A-Z0-9]{6})/.exec(text)?.[1] ?? '' };
  };
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  return { mem, resets, mail, deps, lastMail, passwords, throttle, advance };
}


/** One character changed (still from the readable alphabet). */
const offByOne = (pin: string) => `${pin.slice(0, 5)}${pin[5] === 'A' ? 'B' : 'A'}`;

async function requested() {
  const h = harness();
  await requestReset(h.deps, { username: 'maple.lee', sourceIp });
  const { token, pin } = h.lastMail();
  expect(token).not.toBe('');
  return { h, attempt: { token, pin, username: 'Maple.Lee', newPassword, sourceIp } };
}

describe('rules 9 and 10: both secrets of a reset link are checked', () => {
  it('rule 10: a reset PIN that differs in one character is refused, counted, and sets nothing', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, pin: offByOne(attempt.pin) }))).toBe('unauthorized:wrong-pin-or-username');
    expect(h.resets.states.get('P-1')).toMatchObject({ failures: 1 });
    expect(h.passwords.size).toBe(0);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
  });

  it('rule 9: the right PIN with a username one character off is refused; the username in another case or with spaces is accepted', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, username: 'Maple.Lea' }))).toBe('unauthorized:wrong-pin-or-username');
    expect(await outcome(confirmReset(h.deps, { ...attempt, username: '' }))).toBe('unauthorized:wrong-pin-or-username');
    expect(h.passwords.size).toBe(0);
    expect(await outcome(confirmReset(h.deps, { ...attempt, username: '  MAPLE.LEE ' }))).toBe('ok');
    expect(h.passwords.get('acc-P-1')).toBe(newPassword);
  });

  it('rule 9: a record that lost its username refuses the link (no username to check against)', async () => {
    const { h, attempt } = await requested();
    const doc = h.mem.docs.get('patient:P-1')!;
    doc.value = { ...(doc.value as StoredRecord), username: undefined };
    expect(await outcome(confirmReset(h.deps, attempt))).not.toBe('ok');
    expect(h.passwords.size).toBe(0);
  });

  it('rule 6: a wrong PIN-or-username counts against the source address; a right one does not', async () => {
    const { h, attempt } = await requested();
    const addressFailures = () => [...h.throttle.addresses.values()].reduce((a, b) => a + b, 0);
    expect(await outcome(confirmReset(h.deps, { ...attempt, pin: offByOne(attempt.pin) }))).toBe('unauthorized:wrong-pin-or-username');
    expect(addressFailures()).toBe(1);
    expect(await outcome(confirmReset(h.deps, { ...attempt, newPassword: 'short' }))).toBe('bad-request:validation-error');
    expect(addressFailures()).toBe(1);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(addressFailures()).toBe(1);
  });

  it('rule 7: the 5th wrong pair says the link is dead; the 4th does not', async () => {
    const { h, attempt } = await requested();
    const messages: string[] = [];
    for (let i = 0; i < MAX_RESET_FAILURES; i++) {
      await confirmReset(h.deps, { ...attempt, pin: offByOne(attempt.pin) }).catch((e: DomainError) => messages.push(e.message));
    }
    expect(messages.slice(0, 4).every((m) => !/no longer works/.test(m))).toBe(true);
    expect(messages[4]).toMatch(/no longer works/);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
  });
});

describe('the reset email limit', () => {
  it(`a patient gets at most ${MAX_RESET_EMAILS_PER_HOUR} reset emails an hour; the next hour another; staff are not limited`, async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(3);
    h.advance(59 * 60 * 1000);
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(3);
    h.advance(60 * 1000);
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(4);
    await staffReset(h.deps, { id: 'frontdesk', sourceIp: '203.0.113.7' }, 'P-1');
    await staffReset(h.deps, { id: 'frontdesk', sourceIp: '203.0.113.7' }, 'P-1');
    expect(h.mail.sent).toHaveLength(6);
  });

  it('the last link sent is the one that works; an earlier one is gone', async () => {
    const h = harness();
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    const first = h.lastMail();
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    const second = h.lastMail();
    expect(await outcome(confirmReset(h.deps, { ...first, username: 'maple.lee', newPassword, sourceIp }))).toBe('gone:reset-link-gone');
    expect(await outcome(confirmReset(h.deps, { ...second, username: 'maple.lee', newPassword, sourceIp }))).toBe('ok');
  });
});
