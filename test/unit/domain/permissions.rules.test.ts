/** Mutation-testing rules for lambdas/domain/permissions.ts (issue 20): rule 28, the caller's own permissions. */
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { permissionsOf, requireInvitePermission } from '../../../lambdas/domain/permissions.ts';

const staff = (roles: string[], canInvite: boolean, autoInvite = false): Actor => ({
  id: 'frontdesk',
  sourceIp: '203.0.113.9',
  staff: { sub: 'sub-frontdesk', roles, permissions: { canInvite, autoInvite } },
});

describe('rule 28: what the caller may do comes from their own record and role', () => {
  it('an actor that is not signed-in staff has no permission at all', () => {
    expect(permissionsOf({ id: 'anonymous', sourceIp: '198.51.100.1' })).toEqual({ canInvite: false, autoInvite: false });
  });

  it('staff have exactly their record permissions; the admin role adds inviting and nothing else', () => {
    expect(permissionsOf(staff(['staff'], false, true))).toEqual({ canInvite: false, autoInvite: true });
    expect(permissionsOf(staff(['staff'], true))).toEqual({ canInvite: true, autoInvite: false });
    expect(permissionsOf(staff(['admin'], false))).toEqual({ canInvite: true, autoInvite: false });
    expect(permissionsOf(staff(['admin', 'staff'], false, true))).toEqual({ canInvite: true, autoInvite: true });
    expect(permissionsOf(staff([], false))).toEqual({ canInvite: false, autoInvite: false });
  });

  it('inviting without the permission is 403 forbidden; with it, or as admin, allowed', () => {
    let refused: unknown;
    try {
      requireInvitePermission(staff(['staff'], false));
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(DomainError);
    expect([(refused as DomainError).kind, (refused as DomainError).code]).toEqual(['forbidden', 'forbidden']);
    expect(() => requireInvitePermission({ id: 'anonymous', sourceIp: '198.51.100.1' })).toThrow(DomainError);
    expect(() => requireInvitePermission(staff(['staff'], true))).not.toThrow();
    expect(() => requireInvitePermission(staff(['admin'], false))).not.toThrow();
  });
});
