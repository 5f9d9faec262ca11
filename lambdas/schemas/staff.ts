import { z } from 'zod';
import { StaffId } from './common.ts';

export const StaffPermissions = z
  .strictObject({ canInvite: z.boolean(), autoInvite: z.boolean() })
  .meta({ id: 'StaffPermissions' });
export type StaffPermissions = z.infer<typeof StaffPermissions>;

export const StaffPermissionsChange = StaffPermissions.partial().meta({ id: 'StaffPermissionsChange' });
export type StaffPermissionsChange = z.infer<typeof StaffPermissionsChange>;

export const StaffParams = z.strictObject({ staffId: StaffId });

export const SignInRequest = z
  .strictObject({
    username: z.string().trim().min(1).max(128),
    password: z.string().min(1).max(256),
  })
  .meta({ id: 'SignInRequest' });
export type SignInRequest = z.infer<typeof SignInRequest>;

export const Tokens = z
  .object({
    accessToken: z.string(),
    idToken: z.string(),
    refreshToken: z.string(),
    expiresIn: z.number().int(),
  })
  .meta({ id: 'Tokens' });
export type Tokens = z.infer<typeof Tokens>;

export const Challenge = z
  .object({ challenge: z.string().meta({ example: 'NEW_PASSWORD_REQUIRED' }), session: z.string() })
  .meta({ id: 'Challenge' });
export type Challenge = z.infer<typeof Challenge>;
