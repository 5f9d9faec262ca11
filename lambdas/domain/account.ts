/**
 * The signed-in login's account (GET /account): its own record's view (accountView in
 * patient-access.ts) and every record it may act on now (issue 18: `records`, resolved by
 * lambdas/domain/proxies.ts recordsOf, rule 32). A proxy's login with no record of its own
 * answers its username from its ACCOUNT# item, no email and no cases.
 */
import type { AccountView } from '../schemas/proxy.ts';
import { notFound } from './errors.ts';
import { accountView } from './patient-access.ts';
import { isSelfRelationship, recordsOf, type ProxyDeps } from './proxies.ts';
import { patientTarget, type AuditEvent } from './audit.ts';
import { loginTarget } from './patient-sign-in.ts';
import { describeSignIn, recentSignIns, SIGN_INS_SHOWN, type RecentSignIn } from './recent-sign-ins.ts';

export async function accountOverview(
  deps: Pick<ProxyDeps, 'store' | 'proxies' | 'clock'>,
  login: { accountId: string; patientId: string },
): Promise<AccountView> {
  if (!login.patientId) {
    const [item, records] = await Promise.all([deps.proxies.login(login.accountId), recordsOf(deps, login)]);
    if (!item) throw notFound('The account');
    return { accountId: login.accountId, username: item.username ?? '', cases: [], records };
  }
  const [record, records] = await Promise.all([deps.store.getRecord(login.patientId), recordsOf(deps, login)]);
  if (!record) throw notFound('The account');
  return { ...accountView(record), records };
}

/**
 * GET /account/sign-ins (issue 18 item 5): the login's own last sign-ins, and those of the
 * proxies of its own record while they held access (from acceptance to their end, `until` or
 * now), each naming the proxy (`by`). A proxy's sign-ins are read from its own login's trail:
 * the record it registered for (its successes, which name its login), or its login target when
 * it has no record. A proxy-only login sees its own sign-ins only.
 */
export async function accountSignIns(
  deps: Pick<ProxyDeps, 'store' | 'proxies' | 'clock'>,
  login: { accountId: string; patientId: string },
): Promise<RecentSignIn[]> {
  if (!login.patientId) return signInsUnder(deps, loginTarget(login.accountId), () => true);
  const [own, grants] = await Promise.all([recentSignIns(deps, login.patientId), deps.proxies.grants(login.patientId)]);
  const now = deps.clock().toISOString();
  const theirs = await Promise.all(
    grants
      .filter((g) => g.accountId && g.acceptedAt && !isSelfRelationship(g.relationship))
      .map(async (g) => {
        const from = g.acceptedAt!;
        const to = [g.endedAt, g.until, now].filter((t): t is string => t !== undefined).sort()[0]!;
        const item = await deps.proxies.login(g.accountId!);
        const target = item?.patientId ? patientTarget(item.patientId) : loginTarget(g.accountId!);
        const entries = await signInsUnder(deps, target, (e) => e.actor === `patient:${g.accountId}` && e.at >= from && e.at <= to);
        return entries.map((e) => ({ ...e, by: g.name }));
      }),
  );
  return [...own, ...theirs.flat()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, SIGN_INS_SHOWN);
}

async function signInsUnder(deps: Pick<ProxyDeps, 'store'>, target: string, keep: (e: AuditEvent) => boolean): Promise<RecentSignIn[]> {
  const page = await deps.store.listAudit(target, undefined, 50);
  return page.items.filter((e) => e.action === 'patient.sign-in' && keep(e)).map(describeSignIn).slice(0, SIGN_INS_SHOWN);
}
