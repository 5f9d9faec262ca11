/**
 * The RecordStore on DynamoDB. Key layout (lib/data/tables.ts):
 *   records: PATIENT#<id> / RECORD, SETTINGS / PRACTICE, STAFF#<sub> / STAFF
 *   audit:   <target> / <at>#<uuid>
 * Every change is one TransactWriteItems: the versioned item (conditional on the version read)
 * and its audit entry (conditional on being new), so neither can exist without the other.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import type { AuditEvent } from '../domain/audit.ts';
import { DomainError, versionConflict } from '../domain/errors.ts';
import type { Page, RecordStore, Versioned } from '../domain/ports.ts';
import type { StoredRecord } from '../domain/portal-record.ts';
import type { Settings } from '../schemas/settings.ts';
import type { StaffRecord } from '../domain/staff-admin.ts';
import { dynamo } from './clients.ts';
import { conditionFailed, transactWrite } from './transactions.ts';
import { getItem, readTogether } from './dynamo-batch.ts';

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

export const recordKey = (patientId: string): Key => ({ pk: `PATIENT#${patientId}`, sk: 'RECORD' });
const settingsKey: Key = { pk: 'SETTINGS', sk: 'PRACTICE' };
/** The staff record, by the login's permanent id (the token's `sub`). */
export const staffKey = (sub: string): Key => ({ pk: `STAFF#${sub}`, sk: 'STAFF' });

/** Attributes that exist only for keys and indexes; never part of the record. */
const keyAttributes = ['pk', 'sk', 'listKey', 'emailKey', 'usernameKey', 'masterCaseKey', 'ttl'];

const lower = (v: string | undefined) => v?.toLowerCase();

/** The record as its DynamoDB item, with the key and index attributes it needs. */
export function recordItem(record: StoredRecord): Item {
  return {
    ...record,
    ...recordKey(record.patientId),
    listKey: 'PATIENT',
    emailKey: lower(record.email),
    usernameKey: lower(record.username),
    masterCaseKey: lower(record.masterCase),
  };
}

export function toRecord(item: Item): StoredRecord {
  const copy: Item = { ...item };
  for (const k of keyAttributes) delete copy[k];
  return copy as StoredRecord;
}

/** An audit event as its (append-only) audit-table item. */
export const auditItem = (event: AuditEvent): Item => ({ pk: event.target, sk: `${event.at}#${randomUUID()}`, ...event });

/**
 * The condition for a versioned put: the item must still be at the version read (0: must not
 * exist yet). A failed condition is the `version-conflict` DomainError (see isConditionFailure).
 */
export function versionCondition(expectedVersion: number) {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } };
}

export function dynamoStore(): RecordStore {
  const { RECORDS_TABLE: records, AUDIT_TABLE: audit } = config();
  const db = dynamo();

  const get = async (key: Key): Promise<Item | undefined> => (await getItem(db, { TableName: records, Key: key, ConsistentRead: true })).Item;

  /** The versioned item and its audit entry, all or nothing. */
  const putWithAudit = async (item: Item, expectedVersion: number, event: AuditEvent): Promise<void> => {
    try {
      await transactWrite(db, {
        item: { Put: { TableName: records, Item: item, ...versionCondition(expectedVersion) } },
        audit: { Put: { TableName: audit, Item: auditItem(event), ConditionExpression: 'attribute_not_exists(pk)' } },
      });
    } catch (err) {
      if (conditionFailed(err, 'item')) throw versionConflict();
      throw err;
    }
  };

  const queryPage = async (input: QueryCommandInput, cursorKeys: readonly string[], cursor: string | undefined) => {
    const out = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: decodeCursor(cursor, cursorKeys) }));
    return { items: out.Items ?? [], cursor: out.LastEvaluatedKey ? encodeCursor(out.LastEvaluatedKey) : undefined };
  };

  /**
   * A page of a filtered query: DynamoDB applies Limit BEFORE the FilterExpression, so one call
   * can answer few or no items while later pages hold matches. Keep reading (bounded) until the
   * page is full, and cut the cursor after the last item answered.
   */
  const filteredPage = async (input: QueryCommandInput, cursorKeys: readonly string[], cursor: string | undefined, limit: number) => {
    const items: Record<string, unknown>[] = [];
    let next = cursor;
    for (let round = 0; round < 20; round++) {
      const page = await queryPage(input, cursorKeys, next);
      items.push(...page.items);
      next = page.cursor;
      if (items.length >= limit || !next) break;
    }
    if (items.length <= limit) return { items, cursor: next };
    const kept = items.slice(0, limit);
    const last = kept[kept.length - 1]!;
    return { items: kept, cursor: encodeCursor(Object.fromEntries(cursorKeys.map((k) => [k, last[k]]))) };
  };

  return {
    together: readTogether,

    async getRecord(patientId) {
      const item = await get(recordKey(patientId));
      return item ? toRecord(item) : undefined;
    },

    saveRecord: (record, expectedVersion, event) => putWithAudit(recordItem(record), expectedVersion, event),

    async searchRecords(query, cursor, limit, filter): Promise<Page<StoredRecord>> {
      const since = filter?.registeredSince ? { FilterExpression: 'registeredAt >= :since' } : {};
      const listCursorKeys = ['pk', 'sk', 'listKey', 'patientId'] as const;
      const prefix = (filter?.registeredSince ? (i: QueryCommandInput, k: readonly string[], c: string | undefined) => filteredPage(i, k, c, limit) : queryPage)(
        {
          TableName: records,
          IndexName: 'byPatientId',
          KeyConditionExpression: query ? 'listKey = :list AND begins_with(patientId, :q)' : 'listKey = :list',
          ExpressionAttributeValues: {
            ...(query ? { ':list': 'PATIENT', ':q': query } : { ':list': 'PATIENT' }),
            ...(filter?.registeredSince ? { ':since': filter.registeredSince } : {}),
          },
          ...since,
          Limit: limit,
        },
        listCursorKeys,
        cursor,
      );
      // Exact matches on email, username and case number come first, on the first page only.
      const exact =
        query && !cursor
          ? (['byEmail:emailKey', 'byUsername:usernameKey', 'byMasterCase:masterCaseKey'] as const).map(async (spec) => {
              const [index, attribute] = spec.split(':') as [string, string];
              const out = await db.send(
                new QueryCommand({
                  TableName: records,
                  IndexName: index,
                  KeyConditionExpression: '#a = :v',
                  ExpressionAttributeNames: { '#a': attribute },
                  ExpressionAttributeValues: { ':v': query.toLowerCase() },
                  Limit: limit,
                }),
              );
              return out.Items ?? [];
            })
          : [];
      const [page, ...matches] = await Promise.all([prefix, ...exact]);
      const seen = new Set<string>();
      const items: StoredRecord[] = [];
      for (const item of [...matches.flat(), ...page.items]) {
        const record = toRecord(item);
        if (seen.has(record.patientId)) continue;
        seen.add(record.patientId);
        items.push(record);
      }
      return { items, ...(page.cursor ? { cursor: page.cursor } : {}) };
    },

    async getSettings(): Promise<Versioned<Partial<Settings>> | undefined> {
      const item = await get(settingsKey);
      return item ? { value: item.settings as Partial<Settings>, version: item.version as number } : undefined;
    },

    saveSettings: (settings, expectedVersion, event) =>
      putWithAudit({ ...settingsKey, settings, version: expectedVersion + 1 }, expectedVersion, event),

    async getStaff(sub) {
      const item = await get(staffKey(sub));
      if (!item) return undefined;
      const { pk: _pk, sk: _sk, ...record } = item;
      return record as unknown as StaffRecord;
    },

    saveStaff: (record, expectedVersion, event) => putWithAudit({ ...record, ...staffKey(record.sub) }, expectedVersion, event),

    async appendAudit(event) {
      await db.send(new PutCommand({ TableName: audit, Item: auditItem(event), ConditionExpression: 'attribute_not_exists(pk)' }));
    },

    async listAudit(target, cursor, limit): Promise<Page<AuditEvent>> {
      // A cursor from another record's trail must not page through this one.
      if (cursor && decodeCursor(cursor, ['pk', 'sk'])?.pk !== target) throw badCursor();
      const page = await queryPage(
        {
          TableName: audit,
          KeyConditionExpression: 'pk = :target',
          ExpressionAttributeValues: { ':target': target },
          ScanIndexForward: false,
          Limit: limit,
        },
        ['pk', 'sk'],
        cursor,
      );
      const items = page.items.map(({ pk: _pk, sk: _sk, ...event }) => event as unknown as AuditEvent);
      return { items, ...(page.cursor ? { cursor: page.cursor } : {}) };
    },
  };
}

/** Cursors are the last evaluated key, base64url JSON. A cursor we did not make is a 400, not a 500. */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, keys: readonly string[]): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badCursor();
  const entries = Object.entries(parsed);
  const valid =
    entries.length === keys.length &&
    entries.every(([k, v]) => keys.includes(k) && typeof v === 'string' && v.length > 0 && v.length <= 300) &&
    (!('listKey' in parsed) || (parsed as Record<string, string>).listKey === 'PATIENT');
  if (!valid) throw badCursor();
  return parsed as Record<string, string>;
}

const badCursor = () =>
  new DomainError('bad-request', 'validation-error', 'The request is not valid.', {
    errors: [{ path: 'query.cursor', message: 'is not a cursor this service handed out' }],
  });
