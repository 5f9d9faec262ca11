/**
 * The email-match and auto-invite domains on fakes: the invitation harness (record store,
 * invitations, pool, mailer) plus an EmailMatchStore whose links are the in-memory one-time link
 * store (test/support/memory-links.ts) over the same records.
 */
import { emailMatchPolicy, type EmailMatchConfirmDeps, type EmailMatchData, type EmailMatchRequestDeps, type EmailMatchStore } from '../../../lambdas/domain/email-match.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink } from '../../../lambdas/domain/ports.ts';
import { changeSettings } from '../../../lambdas/domain/settings.ts';
import type { SettingsChange } from '../../../lambdas/schemas/settings.ts';
import { memoryThrottle, outage } from '../../support/memory-invitations.ts';
import { memoryLinks } from '../../support/memory-links.ts';
import { harness, practice, staff } from './invitation-harness.ts';

export function emailMatchHarness() {
  const h = harness();
  const usernames = new Map<string, AccountLink>();
  const leases = memoryLinks<EmailMatchData>(h.mem, usernames, emailMatchPolicy);
  const failIssue = { on: false };
  const matches: EmailMatchStore = {
    ...leases.store,
    async write(change) {
      if (failIssue.on) throw outage('InternalServerError');
      return leases.store.write(change);
    },
    async recordsByEmail(email) {
      return [...h.mem.docs.entries()]
        .filter(([k, d]) => k.startsWith('patient:') && (d.value as StoredRecord).email?.toLowerCase() === email)
        .map(([, d]) => structuredClone(d.value as StoredRecord));
    },
  };
  const slept: number[] = [];
  let ticks = 0;
  const throttle = memoryThrottle();
  const request: EmailMatchRequestDeps = {
    store: h.mem.store,
    matches,
    throttle,
    mailer: h.mail.mailer,
    clock: h.deps.clock,
    settingsDefaults: practice,
    timing: {
      floorMs: 600,
      // Each measurement 10 ms later than the one before: "the work took 10 ms".
      monotonicMs: () => (ticks += 10),
      sleep: async (ms) => {
        slept.push(ms);
      },
    },
  };
  const confirm: EmailMatchConfirmDeps = {
    store: h.mem.store,
    matches,
    accounts: {
      // Usernames claimed by either method.
      async findByUsername(username) {
        return usernames.get(username.toLowerCase()) ?? (await h.inv.accounts.findByUsername(username));
      },
    },
    logins: h.pool.logins,
    throttle,
    clock: h.deps.clock,
  };
  return {
    ...h,
    leases,
    matches,
    request,
    confirm,
    slept,
    failIssue,
    async settings(change: SettingsChange) {
      await changeSettings({ store: h.mem.store, clock: h.deps.clock, defaults: practice }, staff, change);
    },
    /** The verification token in the newest email to `to`. */
    verifyTokenFor(to: string): string {
      const email = [...h.mail.sent].reverse().find((e) => e.to === to);
      const token = /\/portal\/verify#token=([A-Za-z0-9_-]+)/.exec(email?.text ?? '')?.[1];
      if (!token) throw new Error(`no verification email to ${to}`);
      return token;
    },
  };
}

/**
 * P-1 on file with Pat@Example.test, email-match on; `over` edits the stored record; the request
 * side's warnings are collected in `warnings`.
 */
export async function emailMatchReady(over: Partial<StoredRecord> = {}) {
  const h = emailMatchHarness();
  await h.seed('P-1', { email: 'Pat@Example.test', cases: ['C-1'] });
  await h.settings({ emailMatch: true });
  const doc = h.mem.docs.get('patient:P-1')!;
  doc.value = { ...(doc.value as StoredRecord), ...over };
  const warnings: { msg: string; fields: Record<string, string | number> }[] = [];
  h.request.warn = (msg, fields) => void warnings.push({ msg, fields });
  return { ...h, warnings };
}
