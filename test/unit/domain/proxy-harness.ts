/**
 * The proxy domain (lambdas/domain/proxies.ts) over its real adapter (dynamo-proxies.ts) on the
 * in-memory DynamoDB fake, with a patient pool in memory: for the *.rules tests of proxies.ts,
 * which assert what a proxy, a patient or an attacker would see and what was stored or audited.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { accountKey, claimUsernameItem, linkAccountItem, usernameKey } from '../../../lambdas/adapters/dynamo-accounts.ts';
import { dynamoProxies, grantKey, reachKey } from '../../../lambdas/adapters/dynamo-proxies.ts';
import { recordItem, recordKey, toRecord } from '../../../lambdas/adapters/dynamo-store.ts';
import type { Actor, AuditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountStore, PatientLogins, RecordStore } from '../../../lambdas/domain/ports.ts';
import type { ProxyDeps, ProxyGrant, ProxyRegistrationDeps, ProxyStore } from '../../../lambdas/domain/proxies.ts';
import { memoryDynamo } from '../../support/memory-dynamo.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

export const staff: Actor = {
  id: 'frontdesk',
  sourceIp: '203.0.113.7',
  staff: { sub: 'sub-frontdesk', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } },
};
export const staffNoInvite: Actor = { ...staff, id: 'reader', staff: { sub: 'sub-reader', roles: ['staff'], permissions: { canInvite: false, autoInvite: false } } };
export const practice = { practiceName: 'Maple Clinic', portalUrl: 'https://portal.maple.test/' };
export const goodPassword = 'correct horse battery staple meadow';
export const DAY = 24 * 60 * 60 * 1000;

export function proxyWorld() {
  const db = memoryDynamo();
  const opts = { db, table: 'records', auditTable: 'audit' };
  const proxies: ProxyStore = dynamoProxies(opts);
  const appended: AuditEvent[] = [];
  const warnings: { msg: string; fields: Record<string, string> }[] = [];
  let now = new Date('2026-11-30T10:00:00.000Z');
  const clock = () => now;
  const get = async (key: { pk: string; sk: string }) => (await db.send(new GetCommand({ TableName: 'records', Key: key }))).Item;
  const put = (item: Record<string, unknown>) => db.send(new PutCommand({ TableName: 'records', Item: item }));
  let settings: Record<string, unknown> | undefined;
  const store = {
    getRecord: async (patientId: string) => {
      const item = await get(recordKey(patientId));
      return item ? toRecord(item) : undefined;
    },
    getSettings: async () => (settings ? { value: settings, version: 1 } : undefined),
    appendAudit: async (event: AuditEvent) => void appended.push(event),
  } as unknown as RecordStore;

  // The patient pool: accountId → password; signIn refuses like Cognito (invalid-credentials).
  const users = new Map<string, string>();
  const signIns: string[] = [];
  const revoked: string[] = [];
  const logins: Pick<PatientLogins, 'upsert' | 'remove' | 'signIn' | 'revokeRefreshToken'> = {
    async upsert(accountId, password) {
      const created = !users.has(accountId);
      users.set(accountId, password);
      return { created };
    },
    async remove(accountId) {
      users.delete(accountId);
    },
    async signIn(accountId, password) {
      signIns.push(accountId);
      if (users.get(accountId) !== password) throw new DomainError('unauthorized', 'invalid-credentials', 'refused');
      return { kind: 'tokens', accessToken: `at-${accountId}`, idToken: `id-${accountId}`, refreshToken: `rt-${accountId}`, expiresIn: 3600 };
    },
    async revokeRefreshToken(token) {
      revoked.push(token);
    },
  };
  const link = async (key: { pk: string; sk: string }) => {
    const item = await get(key);
    return item ? { accountId: String(item.accountId), patientId: typeof item.patientId === 'string' ? item.patientId : '' } : undefined;
  };
  const accounts: Pick<AccountStore, 'findByUsername' | 'findByAccountId'> = {
    findByUsername: (username) => link(usernameKey(username)),
    findByAccountId: (accountId) => link(accountKey(accountId)),
  };
  const mail = memoryMailer();
  const throttleState = memoryThrottleState();
  const deps: ProxyDeps = { store, proxies, mailer: mail.mailer, clock, settingsDefaults: practice, warn: (msg, fields) => void warnings.push({ msg, fields }) };
  const reg: ProxyRegistrationDeps = { store, proxies, accounts, logins, throttle: throttleState.store, clock, settingsDefaults: practice };

  return {
    db,
    proxies,
    store,
    deps,
    reg,
    mail,
    users,
    signIns,
    revoked,
    warnings,
    throttle: throttleState,
    appended,
    clock,
    setSettings(value: Record<string, unknown>) {
      settings = value;
    },
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    /** A record (access on, no login unless `login` names one: then the login with its password, as registration leaves it). */
    async seed(patientId: string, over: Partial<StoredRecord> = {}, login?: { accountId: string; username: string; password?: string }) {
      const record: StoredRecord = {
        ...newRecord(patientId, now),
        email: `${patientId.toLowerCase()}@example.test`,
        cases: ['C-1', 'C-2'],
        version: 1,
        ...(login ? { accountId: login.accountId, username: login.username, registration: 'NormalRegistration' as const } : {}),
        ...over,
      };
      await put(recordItem(record));
      if (login) {
        await put(linkAccountItem('records', login.accountId, patientId).Put.Item as Record<string, unknown>);
        await put(claimUsernameItem('records', login.username, login.accountId, patientId).Put.Item as Record<string, unknown>);
        users.set(login.accountId, login.password ?? goodPassword);
      }
      return record;
    },
    async putRecord(record: StoredRecord) {
      await put(recordItem(record));
    },
    async record(patientId: string) {
      const item = await get(recordKey(patientId));
      return item ? toRecord(item) : undefined;
    },
    async grant(patientId: string, proxyId: string) {
      return (await get(grantKey(patientId, proxyId))) as (ProxyGrant & { pk: string }) | undefined;
    },
    async putGrant(grant: ProxyGrant) {
      await put({ ...grant, ...grantKey(grant.patientId, grant.proxyId) });
    },
    async reach(accountId: string, patientId: string) {
      return get(reachKey(accountId, patientId));
    },
    async putReach(reach: { accountId: string; patientId: string; proxyId: string; role: 'self' | 'proxy'; until?: string }) {
      await put({ ...reach, ...reachKey(reach.accountId, reach.patientId) });
    },
    async accountItem(accountId: string) {
      return get(accountKey(accountId));
    },
    async usernameItem(username: string) {
      return get(usernameKey(username));
    },
    /** Every audit entry written, by transactions (audit table) and by appendAudit, oldest first. */
    audits(): AuditEvent[] {
      const written = [...db.table('audit').values()].map((i) => i as unknown as AuditEvent);
      return [...written, ...appended];
    },
    actions(): string[] {
      return this.audits().map((a) => a.action);
    },
    /** The token in the newest email to `to` (with its `px.` prefix). */
    tokenFor(to: string): string {
      const email = [...mail.sent].reverse().find((e) => e.to === to);
      const token = /#token=([A-Za-z0-9_.-]+)/.exec(email?.text ?? '')?.[1];
      if (!token) throw new Error(`no proxy invitation email to ${to}`);
      return token;
    },
  };
}

export type ProxyWorld = ReturnType<typeof proxyWorld>;

/** A grant as stored, for tests that place one directly. */
export const aGrant = (over: Partial<ProxyGrant> = {}): ProxyGrant => ({
  proxyId: 'g-1',
  patientId: 'P-1',
  name: 'Pat Parent',
  email: 'parent@example.test',
  relationship: 'parent',
  scope: 'full',
  status: 'Active',
  accountId: 'acc-proxy',
  invitedAt: '2026-11-01T00:00:00.000Z',
  invitedBy: 'frontdesk',
  acceptedAt: '2026-11-02T00:00:00.000Z',
  version: 2,
  ...over,
});
