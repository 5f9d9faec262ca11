/**
 * Per-staff permissions, kept on the staff record `STAFF#<sub>` (lambdas/domain/staff-admin.ts):
 * keyed by the login's permanent id, so a name typed in another case can neither miss the
 * record nor make a second one (issue 13 item 11). A login without a record has no permission
 * beyond its role's; inviting is on for new logins unless an admin takes it away; auto-invite
 * is opt-in.
 *
 * A staff action is allowed by the caller's own role and permissions (rule 28): those come with
 * the caller, read from their record by `sub` with a consistent read when their token was checked
 * on this request (lambdas/http/auth.ts), never looked up by a name in the body.
 */
import type { StaffPermissions } from '../schemas/staff.ts';
import type { Actor } from './audit.ts';
import { DomainError } from './errors.ts';
import { noPermissions } from './staff-admin.ts';

export { changeStaffPermissions as changePermissions, defaultPermissions, readStaffPermissions as readPermissions } from './staff-admin.ts';

/** The caller's own permissions with what their role adds (the admin role may always invite); none for an actor that is not a signed-in staff user. */
export function permissionsOf(actor: Actor): StaffPermissions {
  const staff = actor.staff;
  if (!staff) return noPermissions;
  return staff.roles.includes('admin') ? { ...staff.permissions, canInvite: true } : staff.permissions;
}

/** Inviting and Register Patient need the caller's own invite permission. */
export function requireInvitePermission(caller: Actor): void {
  if (!permissionsOf(caller).canInvite) throw new DomainError('forbidden', 'forbidden', 'Your permissions do not include inviting patients.');
}
