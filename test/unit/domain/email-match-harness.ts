/**
 * The email-match and auto-invite domains on fakes: the invitation harness (record store,
 * invitations, pool, mailer) plus an EmailMatchStore whose lease and commit are a second
 * memoryInvitations, the same fake the invitation registration tests use (the real adapter is the
 * invitation adapter over other keys, too).
 */
import type { EmailMatchConfirmDeps, EmailMatchRequestDeps, EmailMatchState, EmailMatchStore } from '../../../lambdas/domain/email-match.ts';
import { invitationConflict } from '../../../lambdas/domain/invitations.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { changeSettings } from '../../../lambdas/domain/settings.ts';
import type { SettingsChange } from '../../../lambdas/schemas/settings.ts';
import { memoryInvitations, memoryThrottle, outage } from '../../support/memory-invitations.ts';
import { harness, practice, staff } from './invitation-harness.ts';

export function emailMatchHarness() {
  const h = harness();
  const leases = memoryInvitations(h.mem);
  const failIssue = { on: false };
  const audits = h.mem.audit;
  const matches: EmailMatchStore = {
    getState: async (patientId) => (await leases.store.getInvitation(patientId)) as EmailMatchState | undefined,
    findLink: leases.store.findLink,
    takeLease: leases.store.takeLease,
    releaseLease: leases.store.releaseLease,
    completeRegistration: leases.store.completeRegistration,
    async recordsByEmail(email) {
      return [...h.mem.docs.entries()]
        .filter(([k, d]) => k.startsWith('patient:') && (d.value as StoredRecord).email?.toLowerCase() === email)
        .map(([, d]) => structuredClone(d.value as StoredRecord));
    },
    async issue(change) {
      if (failIssue.on) throw outage('InternalServerError');
      const current = leases.invitations.get(change.state.next.patientId);
      if ((current?.version ?? 0) !== change.state.expectedVersion) throw invitationConflict();
      leases.invitations.set(change.state.next.patientId, structuredClone(change.state.next));
      if (change.deleteLink) leases.links.delete(change.deleteLink);
      leases.links.set(change.putLink.tokenHash, { ...change.putLink });
      audits.push(change.audit);
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
        return (await leases.accounts.findByUsername(username)) ?? (await h.inv.accounts.findByUsername(username));
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
