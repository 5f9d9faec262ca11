/** Staff administration (GET /staff/me, GET/POST /staff, PUT /staff/{staffId}, mfa-reset). */
import { z } from 'zod';
import { IsoDateTime } from './common.ts';
import { StaffPermissions } from './staff.ts';

export const StaffRole = z.enum(['admin', 'staff']).meta({ id: 'StaffRole' });
export type StaffRole = z.infer<typeof StaffRole>;

/**
 * A new staff login's name. Lower-case only: the pool matches names case-insensitively, and
 * cognito-local does not, so names we create are stored in the one case both agree on.
 */
export const NewStaffUsername = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'must be 2 to 64 letters, digits or ._- and start with a letter or digit')
  .meta({ example: 'frontdesk' });

export const StaffMe = z
  .object({ username: z.string(), roles: z.array(StaffRole), permissions: StaffPermissions, mfaEnrolled: z.boolean() })
  .meta({ id: 'StaffMe' });
export type StaffMe = z.infer<typeof StaffMe>;

export const StaffUser = z
  .object({
    username: z.string(),
    email: z.string().optional(),
    roles: z.array(StaffRole),
    enabled: z.boolean(),
    mfaEnrolled: z.boolean(),
    permissions: StaffPermissions,
    createdAt: IsoDateTime,
  })
  .meta({ id: 'StaffUser' });
export type StaffUser = z.infer<typeof StaffUser>;

export const StaffList = z.object({ items: z.array(StaffUser) }).meta({ id: 'StaffList' });
export type StaffList = z.infer<typeof StaffList>;

export const StaffCreate = z
  .strictObject({ username: NewStaffUsername, email: z.email().max(254), role: StaffRole })
  .meta({ id: 'StaffCreate' });
export type StaffCreate = z.infer<typeof StaffCreate>;

export const StaffCreated = z
  .object({ username: z.string(), temporaryPassword: z.string(), expiresAt: IsoDateTime })
  .meta({ id: 'StaffCreated' });
export type StaffCreated = z.infer<typeof StaffCreated>;

export const StaffChange = z
  .strictObject({ enabled: z.boolean().optional(), role: StaffRole.optional() })
  .refine((c) => c.enabled !== undefined || c.role !== undefined, { message: 'give enabled, role or both' })
  .meta({ id: 'StaffChange' });
export type StaffChange = z.infer<typeof StaffChange>;
