/**
 * Self-registration (issue 19) over its real adapter (dynamo-self-registrations.ts) and the
 * email-match links on the in-memory DynamoDB: for self-registration.rules.test.ts.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoLinks, linkKeys } from '../../../lambdas/adapters/dynamo-links.ts';
import { dynamoSelfRegistrations } from '../../../lambdas/adapters/dynamo-self-registrations.ts';
import { recordItem, recordKey, toRecord } from '../../../lambdas/adapters/dynamo-store.ts';
import type { Actor, AuditEvent } from '../../../lambdas/domain/audit.ts';
import { emailMatchPolicy } from '../../../lambdas/domain/email-match.ts';
import type { EqualTime } from '../../../lambdas/domain/equal-time.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { RecordStore } from '../../../lambdas/domain/ports.ts';
import type { SelfRegistrationDeps } from '../../../lambdas/domain/self-registration.ts';
import type { Settings } from '../../../lambdas/schemas/settings.ts';
import { memoryDynamo } from '../../support/memory-dynamo.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

export const defaults = { practiceName: 'Riverside Clinic', portalUrl: 'https://portal.example.test' };
export const staff: Actor = { id: 'frontdesk', sourceIp: '10.0.0.1', staff: { sub: 's-1', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } } };
export const form = { firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1980-04-30', email: ' Ada@Example.test ', sourceIp: '192.0.2.7' };

export function selfRegWorld(settings: Partial<Settings> = { selfRegistration: true }) {
  const db = memoryDynamo();
  const opts = { db, table: 'records', auditTable: 'audit' };
  const requests = dynamoSelfRegistrations(opts);
  const matches = dynamoLinks<{ emailHash: string }>(emailMatchPolicy, opts);
  const mail = memoryMailer();
  const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
  const appended: AuditEvent[] = [];
  let now = new Date('2026-11-30T10:00:00.000Z');
  let current: Partial<Settings> = settings;
  const get = async (key: { pk: string; sk: string }) => (await db.send(new GetCommand({ TableName: 'records', Key: key }))).Item;
  const store = {
    getRecord: async (patientId: string) => {
      const item = await get(recordKey(patientId));
      return item ? toRecord(item) : undefined;
    },
    getSettings: async () => ({ value: current, version: 1 }),
    appendAudit: async (e: AuditEvent) => void appended.push(e),
  } as unknown as RecordStore;
  let monotonic = 0;
  let step = 0;
  const slept: number[] = [];
  const timing: EqualTime = { floorMs: 600, monotonicMs: () => (monotonic += step), sleep: async (ms) => void slept.push(ms) };
  const throttle = memoryThrottleState();
  const deps: SelfRegistrationDeps & { matches: typeof matches } = {
    store,
    requests,
    matches,
    throttle: throttle.store,
    mailer: mail.mailer,
    clock: () => now,
    settingsDefaults: defaults,
    warn: (msg, fields) => void warnings.push({ msg, fields }),
    timing,
  };
  return {
    db,
    deps,
    requests,
    matches,
    mail,
    warnings,
    appended,
    throttle,
    slept,
    /** Each read of the monotonic clock moves it this far (the work then "takes" it). */
    workTakes: (ms: number) => void (step = ms),
    clock: () => now,
    later: (ms: number) => void (now = new Date(now.getTime() + ms)),
    setSettings: (next: Partial<Settings>) => void (current = next),
    tokenOf(path: string) {
      const text = mail.sent.at(-1)?.text ?? '';
      return new RegExp(`${path}#token=([A-Za-z0-9_-]+)`).exec(text)?.[1];
    },
    async seed(patientId: string, over: Partial<StoredRecord> = {}) {
      const record = { ...newRecord(patientId, now), version: 1, ...over };
      await db.send(new PutCommand({ TableName: 'records', Item: recordItem(record) }));
      return record;
    },
    async record(patientId: string) {
      const item = await get(recordKey(patientId));
      return item ? toRecord(item) : undefined;
    },
    /** Puts an email-match link state for `patientId` directly (a lease, an accountId). */
    async putMatchState(patientId: string, state: Record<string, unknown>) {
      await db.send(new PutCommand({ TableName: 'records', Item: { ...state, patientId, ...linkKeys('email-match').state(patientId) } }));
    },
    audits(): AuditEvent[] {
      return [...[...db.table('audit').values()].map((i) => i as unknown as AuditEvent), ...appended];
    },
  };
}
export type SelfRegWorld = ReturnType<typeof selfRegWorld>;
