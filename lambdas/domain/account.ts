/**
 * The signed-in login's account (GET /account): its own record's view (accountView in
 * patient-access.ts) and every record it may act on now (issue 18: `records`, resolved by
 * lambdas/domain/proxies.ts recordsOf, rule 32). A proxy's login with no record of its own
 * answers its username from its ACCOUNT# item, no email and no cases.
 */
import type { AccountView } from '../schemas/proxy.ts';
import { DomainError, notFound, retryOnConflict } from './errors.ts';
import { accountView } from './patient-access.ts';
import { isSelfRelationship, recordsOf, type ProxyDeps, type ProxyStore } from './proxies.ts';
import { auditEvent, patientTarget, type AuditEvent } from './audit.ts';
import { passwordProblems } from './password-policy.ts';
import { badPassword, loginTarget, patientSignInRefused, type Tokens } from './patient-sign-in.ts';
import type { AccountStore, Clock, PatientLogins } from './ports.ts';
import { throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';
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

export interface ProxyCredentialDeps {
  proxies: Pick<ProxyStore, 'login' | 'saveLogin'>;
  accounts: Pick<AccountStore, 'findByUsername'>;
  logins: Pick<PatientLogins, 'signIn' | 'setPassword' | 'signOutEverywhere'>;
  throttle: ThrottleStore;
  clock: Clock;
}

/**
 * PUT /account/credentials for a proxy-only login (issue 18): what changeCredentials
 * (patient-access.ts) does for a patient, on the login's ACCOUNT# item instead of a record. The
 * current password proved by a throttled sign-in (a retry may prove the new one, rule 24: a
 * second counted guess), our password rules (no email is known), the username free (409 only
 * after the password, rule 27), the password set at Cognito, then the item's generation bumped
 * with the username swap and the audit entry in one transaction, so every older token is
 * refused on its next request (rule 17). Fresh tokens are minted after that commit.
 */
export async function changeProxyLoginCredentials(
  deps: ProxyCredentialDeps,
  login: { accountId: string; sourceIp: string },
  change: { currentPassword: string; newPassword?: string; newUsername?: string },
): Promise<Tokens> {
  const item = await deps.proxies.login(login.accountId);
  if (!item || item.patientId !== undefined) throw patientSignInRefused();
  const keys = throttleKeys('patient', item.username ?? login.accountId, login.sourceIp, deps.clock());
  const isRefusal = (err: unknown) => err instanceof DomainError && err.code === 'invalid-credentials';
  const prove = (password: string) => throttledSignIn(deps, keys, () => deps.logins.signIn(login.accountId, password), { reserve: true });
  await prove(change.currentPassword)
    .catch(async (err: unknown) => {
      if (change.newPassword === undefined || !isRefusal(err)) throw err;
      await prove(change.newPassword).catch((second: unknown) => {
        throw isRefusal(second) ? err : second;
      });
    })
    .catch((err: unknown) => {
      if (isRefusal(err)) {
        throw new DomainError('unauthorized', 'invalid-credentials', 'The current password is not right.', {
          errors: [{ path: 'body.currentPassword', message: 'is not your current password' }],
        });
      }
      throw err;
    });
  const username = change.newUsername ?? item.username ?? '';
  const password = change.newPassword ?? change.currentPassword;
  if (change.newPassword !== undefined || change.newUsername !== undefined) {
    const problems = passwordProblems(password, { username });
    if (problems.length > 0) throw badPassword(problems, change.newPassword !== undefined ? 'body.newPassword' : 'body.newUsername');
  }
  if (change.newUsername && change.newUsername.toLowerCase() !== item.username?.toLowerCase()) {
    const holder = await deps.accounts.findByUsername(change.newUsername);
    if (holder && holder.accountId !== login.accountId) throw usernameTaken();
  }
  if (change.newPassword !== undefined) await deps.logins.setPassword(login.accountId, change.newPassword);
  await deps.logins.signOutEverywhere(login.accountId);
  const now = deps.clock();
  await retryOnConflict(async () => {
    const current = await deps.proxies.login(login.accountId);
    if (!current || current.patientId !== undefined) throw patientSignInRefused();
    await deps.proxies.saveLogin({
      accountId: login.accountId,
      expectedGeneration: current.generation ?? 0,
      username,
      ...(current.username ? { release: current.username } : {}),
      audit: auditEvent({ id: `patient:${login.accountId}`, sourceIp: login.sourceIp }, loginTarget(login.accountId), 'patient.credentials-changed', now, {
        passwordChanged: change.newPassword !== undefined,
        usernameChanged: username !== current.username,
      }),
    });
  });
  const fresh = await deps.logins.signIn(login.accountId, password);
  if (fresh.kind !== 'tokens') throw new Error('no tokens after a credential change');
  return fresh;
}

const usernameTaken = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');
