import * as z from 'zod/mini';
import { Tokens } from './staff.ts';
import { NewPassword, PatientUsername, PresentedPassword } from './patient.ts';

export const PatientSignIn = /* @__PURE__ */ (() => z
  .strictObject({ username: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)), password: PresentedPassword })
  .check(z.meta({ id: 'PatientSignIn' })))();

export const NewPasswordRequest = /* @__PURE__ */ (() => z
  .strictObject({
    session: z.string().check(z.regex(/^[A-Za-z0-9_-]{20,100}$/, 'is not a session this service handed out')),
    newPassword: NewPassword,
    newUsername: z.optional(PatientUsername),
  })
  .check(z.meta({ id: 'NewPasswordRequest' })))();

export const CredentialsChange = /* @__PURE__ */ (() => z
  .strictObject({
    currentPassword: PresentedPassword,
    newPassword: z.optional(NewPassword),
    newUsername: z.optional(PatientUsername),
  })
  .check(
    z.refine((v) => v.newPassword !== undefined || v.newUsername !== undefined, {
      message: 'give newPassword, newUsername or both',
      path: ['newPassword'],
    }),
    z.meta({ id: 'CredentialsChange' }),
  ))();

export const Account = /* @__PURE__ */ (() => z
  .object({ accountId: z.string(), username: z.string(), email: z.optional(z.string()), cases: z.array(z.string()) })
  .check(z.meta({ id: 'Account' })))();

export const TemporaryRegistration = /* @__PURE__ */ (() => z
  .object({
    username: z.string(),
    temporaryPassword: z.string().check(z.meta({ description: 'Shown once; grouped XXXX-XXXX-XXXX-XXXX for reading aloud' })),
    expiresAt: z.iso.datetime(),
    record: z.unknown(),
  })
  .check(z.meta({ id: 'TemporaryRegistration' })))();

export const SessionTokens = Tokens;
