/** Staff administration (GET /staff/me, GET/POST /staff, PUT /staff/{staffId}, mfa-reset). */
import * as z from 'zod/mini';
import { IsoDateTime } from './common.ts';
import { StaffPermissions } from './staff.ts';

export const StaffRole = /* @__PURE__ */ (() => z.enum(['admin', 'staff']).check(z.meta({ id: 'StaffRole' })))();
export type StaffRole = z.infer<typeof StaffRole>;

/**
 * A new staff login's name. Lower-case only: the pool matches names case-insensitively, and
 * cognito-local does not, so names we create are stored in the one case both agree on.
 */
export const NewStaffUsername = /* @__PURE__ */ (() => z
  .string()
  .check(
    z.trim(),
    z.toLowerCase(),
    z.regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'must be 2 to 64 letters, digits or ._- and start with a letter or digit'),
    z.meta({ example: 'frontdesk' }),
  ))();

export const StaffMe = /* @__PURE__ */ (() => z
  .object({ username: z.string(), roles: z.array(StaffRole), permissions: StaffPermissions, mfaEnrolled: z.boolean() })
  .check(z.meta({ id: 'StaffMe' })))();
export type StaffMe = z.infer<typeof StaffMe>;

export const StaffUser = /* @__PURE__ */ (() => z
  .object({
    username: z.string(),
    email: z.optional(z.string()),
    roles: z.array(StaffRole),
    enabled: z.boolean(),
    mfaEnrolled: z.boolean(),
    permissions: StaffPermissions,
    createdAt: IsoDateTime,
  })
  .check(z.meta({ id: 'StaffUser' })))();
export type StaffUser = z.infer<typeof StaffUser>;

export const StaffList = /* @__PURE__ */ (() => z.object({ items: z.array(StaffUser) }).check(z.meta({ id: 'StaffList' })))();
export type StaffList = z.infer<typeof StaffList>;

export const StaffCreate = /* @__PURE__ */ (() => z
  .strictObject({ username: NewStaffUsername, email: z.email().check(z.maxLength(254)), role: StaffRole })
  .check(z.meta({ id: 'StaffCreate' })))();
export type StaffCreate = z.infer<typeof StaffCreate>;

export const StaffCreated = /* @__PURE__ */ (() => z
  .object({ username: z.string(), temporaryPassword: z.string(), expiresAt: IsoDateTime })
  .check(z.meta({ id: 'StaffCreated' })))();
export type StaffCreated = z.infer<typeof StaffCreated>;

export const StaffChange = /* @__PURE__ */ (() => z
  .strictObject({ enabled: z.optional(z.boolean()), role: z.optional(StaffRole) })
  .check(
    z.refine((c) => c.enabled !== undefined || c.role !== undefined, { message: 'give enabled, role or both' }),
    z.meta({ id: 'StaffChange' }),
  ))();
export type StaffChange = z.infer<typeof StaffChange>;
