import { z } from 'zod';
import { Tokens } from './staff.ts';
import { NewPassword, PatientUsername, PresentedPassword } from './patient.ts';

export const PatientSignIn = z
  .strictObject({ username: z.string().trim().min(1).max(128), password: PresentedPassword })
  .meta({ id: 'PatientSignIn' });

export const NewPasswordRequest = z
  .strictObject({
    session: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'is not a session this service handed out'),
    newPassword: NewPassword,
    newUsername: PatientUsername.optional(),
  })
  .meta({ id: 'NewPasswordRequest' });

export const CredentialsChange = z
  .strictObject({
    currentPassword: PresentedPassword,
    newPassword: NewPassword.optional(),
    newUsername: PatientUsername.optional(),
  })
  .refine((v) => v.newPassword !== undefined || v.newUsername !== undefined, {
    message: 'give newPassword, newUsername or both',
    path: ['newPassword'],
  })
  .meta({ id: 'CredentialsChange' });

export const Account = z
  .object({ accountId: z.string(), username: z.string(), email: z.string().optional(), cases: z.array(z.string()) })
  .meta({ id: 'Account' });

export const TemporaryRegistration = z
  .object({
    username: z.string(),
    temporaryPassword: z.string().meta({ description: 'Shown once; grouped XXXX-XXXX-XXXX-XXXX for reading aloud' }),
    expiresAt: z.iso.datetime(),
    record: z.unknown(),
  })
  .meta({ id: 'TemporaryRegistration' });

export const SessionTokens = Tokens;
