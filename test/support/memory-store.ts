/** An in-memory RecordStore with the same version rules as the DynamoDB one, for domain tests. */
import type { AuditEvent } from '../../lambdas/domain/audit.ts';
import { versionConflict } from '../../lambdas/domain/errors.ts';
import type { RecordStore, Versioned } from '../../lambdas/domain/ports.ts';
import type { StoredRecord } from '../../lambdas/domain/portal-record.ts';
import type { StaffRecord } from '../../lambdas/domain/staff-admin.ts';

export function memoryStore() {
  const docs = new Map<string, Versioned<unknown>>();
  const audit: AuditEvent[] = [];
  /** Called before each save: lets a test slip in a concurrent writer. */
  let beforeSave: (() => void) | undefined;

  const save = (key: string, value: unknown, expected: number, event: AuditEvent) => {
    beforeSave?.();
    if ((docs.get(key)?.version ?? 0) !== expected) throw versionConflict();
    docs.set(key, { value: structuredClone(value), version: expected + 1 });
    audit.push(event);
  };

  const store: RecordStore = {
    async getRecord(id) {
      const doc = docs.get(`patient:${id}`);
      return doc ? (structuredClone(doc.value) as StoredRecord) : undefined;
    },
    async saveRecord(record, expected, event) {
      if (record.version !== expected + 1) throw new Error(`record version ${record.version} after ${expected}`);
      save(`patient:${record.patientId}`, record, expected, event);
    },
    async searchRecords() {
      return { items: [...docs.entries()].filter(([k]) => k.startsWith('patient:')).map(([, d]) => d.value as StoredRecord) };
    },
    async getSettings() {
      return docs.get('settings') as Versioned<never> | undefined;
    },
    async saveSettings(settings, expected, event) {
      save('settings', settings, expected, event);
    },
    async getStaff(sub) {
      const doc = docs.get(`staff:${sub}`);
      return doc ? (structuredClone(doc.value) as StaffRecord) : undefined;
    },
    async saveStaff(record, expected, event) {
      if (record.version !== expected + 1) throw new Error(`staff record version ${record.version} after ${expected}`);
      save(`staff:${record.sub}`, record, expected, event);
    },
    async appendAudit(event) {
      audit.push(event);
    },
    async listAudit(target) {
      return { items: audit.filter((a) => a.target === target).reverse() };
    },
  };
  return {
    store,
    audit,
    docs,
    onBeforeSave(fn: (() => void) | undefined) {
      beforeSave = fn;
    },
  };
}

export const fixedClock = (iso = '2026-11-21T10:00:00.000Z') => () => new Date(iso);
