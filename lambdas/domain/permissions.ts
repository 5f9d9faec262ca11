/** Per-staff permissions. Inviting is on unless an admin takes it away; auto-invite is opt-in. */
import type { StaffPermissions, StaffPermissionsChange } from '../schemas/staff.ts';
import { auditEvent, staffTarget, type Actor } from './audit.ts';
import { DomainError, notFound, retryOnConflict } from './errors.ts';
import type { Clock, RecordStore, StaffDirectory } from './ports.ts';

export const defaultPermissions: StaffPermissions = { canInvite: true, autoInvite: false };

export interface PermissionsDeps {
  store: RecordStore;
  staff: StaffDirectory;
  clock: Clock;
}

export async function readPermissions({ store, staff }: Omit<PermissionsDeps, 'clock'>, staffId: string): Promise<StaffPermissions> {
  const stored = await store.getPermissions(staffId);
  if (stored) return stored.value;
  if (!(await staff.exists(staffId))) throw notFound('The staff user');
  return defaultPermissions;
}

export async function changePermissions(
  deps: PermissionsDeps,
  actor: Actor,
  staffId: string,
  change: StaffPermissionsChange,
): Promise<StaffPermissions> {
  if (!(await deps.staff.exists(staffId))) throw notFound('The staff user');
  return retryOnConflict(async () => {
    const stored = await deps.store.getPermissions(staffId);
    const current = stored?.value ?? defaultPermissions;
    const next = { ...current, ...change };
    const changed = (Object.keys(change) as (keyof StaffPermissions)[]).filter((k) => current[k] !== next[k]);
    if (stored && changed.length === 0) return current;
    const audit = auditEvent(actor, staffTarget(staffId), 'staff-permissions.updated', deps.clock(), { fields: changed });
    await deps.store.savePermissions(staffId, next, stored?.version ?? 0, audit);
    return next;
  });
}

/**
 * Inviting and Register Patient need the caller's invite permission (admins can take it away).
 * The caller is a signed-in staff user, so no directory look-up is needed: no stored
 * permissions means the defaults.
 */
export async function requireInvitePermission(store: RecordStore, staffId: string): Promise<void> {
  const permissions = (await store.getPermissions(staffId))?.value ?? defaultPermissions;
  if (!permissions.canInvite) throw new DomainError('forbidden', 'forbidden', 'Your permissions do not include inviting patients.');
}
