/** Staff records for tests (lambdas/domain/staff-admin.ts). */
import type { StaffRecord } from '../../lambdas/domain/staff-admin.ts';

/**
 * An enabled record with the default permissions: what a login made by POST /staff has. Both
 * roles, so the token's groups decide what a handler test's caller may do; tests of a record
 * narrower than the token (a demotion) say so.
 */
export function enabledStaffRecord(sub: string, change: Partial<StaffRecord> = {}): StaffRecord {
  return {
    sub,
    username: sub.replace(/^sub-/, ''),
    enabled: true,
    roles: ['admin', 'staff'],
    permissions: { canInvite: true, autoInvite: false },
    sessionsValidFrom: 0,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    version: 1,
    ...change,
  };
}
