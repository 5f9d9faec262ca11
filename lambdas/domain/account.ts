/**
 * The signed-in login's account (GET /account): its own record's view (accountView in
 * patient-access.ts) and every record it may act on now (issue 18: `records`, resolved by
 * lambdas/domain/proxies.ts recordsOf, rule 32). A proxy's login with no record of its own
 * answers its username from its ACCOUNT# item, no email and no cases.
 */
import type { AccountView } from '../schemas/proxy.ts';
import { notFound } from './errors.ts';
import { accountView } from './patient-access.ts';
import { recordsOf, type ProxyDeps } from './proxies.ts';

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
