/**
 * The reset flow on in-memory fakes that keep DynamoDB's rules (the links see the throttle, so the
 * commit clears the sign-in counters in its own transaction; a record edit moves the version on).
 * Shared by resets.flows and resets.mutants.
 */
import { expect } from 'vitest';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink, PatientLogins } from '../../../lambdas/domain/ports.ts';
import { requestReset, resetPolicy, type ResetConfirmDeps, type ResetData } from '../../../lambdas/domain/resets.ts';
import { memoryLinks } from '../../support/memory-links.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';
import { outcome } from '../../support/domain-outcome.ts';

export const practice = { practiceName: 'Maple Clinic', portalUrl: 'https://portal.maple.test/' };
export const newPassword = 'quartz meadow harbor kettle';
export const sourceIp = '198.51.100.1';
export const frontdesk = { id: 'frontdesk', sourceIp: '203.0.113.7' };

export function harness(over: Partial<StoredRecord> = {}) {
  const mem = memoryStore();
  const usernames = new Map<string, AccountLink>();
  const throttle = memoryThrottleState();
  // The commit clears the sign-in counters in its own transaction (issue 16): the links see the throttle.
  const resets = memoryLinks<ResetData>(mem, usernames, resetPolicy, throttle.store);
  const mail = memoryMailer();
  const passwords = new Map<string, string>();
  const signedOut: string[] = [];
  const logins: Pick<PatientLogins, 'setPassword' | 'signOutEverywhere'> = {
    async setPassword(id, password) {
      passwords.set(id, password);
    },
    async signOutEverywhere(id) {
      signedOut.push(id);
    },
  };
  let now = new Date('2026-11-21T10:00:00.000Z');
  const warnings: { msg: string; fields: Record<string, string> }[] = [];
  const deps: ResetConfirmDeps = {
    store: mem.store,
    accounts: { findByUsername: async (u) => usernames.get(u.trim().toLowerCase()) },
    resets: { ...resets.store },
    logins,
    throttle: throttle.store,
    mailer: mail.mailer,
    clock: () => now,
    settingsDefaults: practice,
    warn: (msg, fields) => void warnings.push({ msg, fields }),
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
    ...over,
  };
  mem.docs.set('patient:P-1', { value: record, version: 1 });
  usernames.set('maple.lee', { accountId: 'acc-P-1', patientId: 'P-1' });
  const lastMail = () => {
    const text = mail.sent.at(-1)?.text ?? '';
    return { token: /#token=([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '', pin: /PIN: ([A-Z0-9]{6})/.exec(text)?.[1] ?? '' };
  };
  const edit = (change: Partial<StoredRecord>) => {
    // As every record write does: the version moves on (the commit is conditional on the one it read).
    const doc = mem.docs.get('patient:P-1')!;
    doc.version += 1;
    doc.value = { ...(doc.value as StoredRecord), ...change, version: doc.version };
  };
  const audits = (action: string) => mem.audit.filter((a) => a.action === action);
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  return { mem, resets, mail, deps, lastMail, passwords, signedOut, throttle, warnings, edit, audits, advance, usernames, record: () => mem.docs.get('patient:P-1')!.value as StoredRecord };
}

export { outcome };

export async function requested(h = harness()) {
  await requestReset(h.deps, { username: 'maple.lee', sourceIp });
  const { token, pin } = h.lastMail();
  expect(token).not.toBe('');
  return { h, attempt: { token, pin, username: 'Maple.Lee', newPassword, sourceIp } };
}
