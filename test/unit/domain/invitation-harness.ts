/** A whole invitation domain on fakes, for the invitation and registration tests. */
import type { Actor } from '../../../lambdas/domain/audit.ts';
import { invitationLinks, type InvitationDeps } from '../../../lambdas/domain/invitations.ts';
import { editRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink } from '../../../lambdas/domain/ports.ts';
import type { RegistrationDeps } from '../../../lambdas/domain/registration.ts';
import type { PortalRecordChange } from '../../../lambdas/schemas/portal-record.ts';
import { memoryLinks, memoryLogins, memoryMailer, memoryThrottle, testVault } from '../../support/memory-invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { outcome } from '../../support/domain-outcome.ts';

export const staff: Actor = {
  id: 'frontdesk',
  sourceIp: '203.0.113.7',
  staff: { sub: 'sub-frontdesk', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } },
};
export const practice = { practiceName: 'Maple & Oak <Clinic>', portalUrl: 'https://portal.maple.test/' };

export function harness() {
  const mem = memoryStore();
  // Which patient each login is linked to (the commit's linkAccount).
  const accountLinks = new Map<string, AccountLink>();
  const links = memoryLinks(mem, invitationLinks, { accounts: accountLinks });
  // `invitations`: the link states by patient; `links`: the pointers by token hash.
  const inv = { ...links, invitations: links.states, links: links.pointers };
  const pool = memoryLogins();
  const mail = memoryMailer();
  let now = new Date('2026-11-21T10:00:00.000Z');
  const clock = () => now;
  const vault = testVault();
  const deps: InvitationDeps = { store: mem.store, invitations: inv.store, vault, mailer: mail.mailer, clock, settingsDefaults: practice };
  const reg: RegistrationDeps = {
    store: mem.store,
    invitations: inv.store,
    accounts: inv.accounts,
    logins: pool.logins,
    vault,
    throttle: memoryThrottle(),
    clock,
    settingsDefaults: practice,
  };
  return {
    mem,
    inv,
    pool,
    mail,
    accountLinks,
    deps,
    reg,
    vault,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    async seed(patientId: string, change: PortalRecordChange = { email: `${patientId.toLowerCase()}@example.test`, cases: ['C-1'] }) {
      return (await editRecord(deps, staff, patientId, change, undefined)).record;
    },
    /** The token in the newest email to `to`. */
    tokenFor(to: string): string {
      const email = [...mail.sent].reverse().find((e) => e.to === to);
      const token = /#token=([A-Za-z0-9_-]+)/.exec(email?.text ?? '')?.[1];
      if (!token) throw new Error(`no invitation email to ${to}`);
      return token;
    },
    record(patientId: string) {
      return mem.docs.get(`patient:${patientId}`)?.value as import('../../../lambdas/domain/portal-record.ts').StoredRecord | undefined;
    },
  };
}

export const DAY = 24 * 60 * 60 * 1000;
export const goodPassword = 'correct horse battery staple meadow';

/** A domain call's outcome as `kind:code` (test/support/domain-outcome.ts). */
export const code = outcome;
