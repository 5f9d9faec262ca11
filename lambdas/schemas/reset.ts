/** Credential reset: shapes of the reset request, confirm, staff-initiated reset and forced change routes. */
import * as z from 'zod/mini';
import { IsoDateTime } from './common.ts';
import { Delivery, LinkToken } from './invitation.ts';
import { NewPassword, PatientUsername } from './patient.ts';

/**
 * The username as typed on the "forgot password" form. Loose on purpose: a name that could never
 * exist must get the same 202 as a real one (security rule 13), not a 400 that tells them apart.
 */
const TypedUsername = /* @__PURE__ */ (() => z.string().check(z.trim(), z.minLength(1), z.maxLength(128)))();

/** POST /credential-resets. */
export const ResetRequest = /* @__PURE__ */ (() => z.strictObject({ username: TypedUsername }).check(z.meta({ id: 'ResetRequest' })))();
export type ResetRequest = z.infer<typeof ResetRequest>;

/** POST /credential-resets → 202: one body whatever happened (rule 13). */
export const ResetRequested = /* @__PURE__ */ (() => z
  .object({ message: z.string() })
  .check(z.meta({ id: 'ResetRequested', example: { message: 'If this username belongs to a portal login with an email address, we have emailed a reset link and PIN.' } })))();
export type ResetRequested = z.infer<typeof ResetRequested>;

/** POST /credential-resets/confirm. The current username is typed again; it counts like the PIN. */
export const ResetConfirmRequest = /* @__PURE__ */ (() => z
  .strictObject({
    token: LinkToken,
    // Any case, with or without spaces or a dash; a malformed PIN is simply a wrong PIN.
    pin: z.string().check(z.minLength(1), z.maxLength(32)),
    username: TypedUsername,
    newPassword: NewPassword,
    newUsername: z.optional(PatientUsername),
  })
  .check(z.meta({ id: 'ResetConfirmRequest' })))();
export type ResetConfirmRequest = z.infer<typeof ResetConfirmRequest>;

/** POST /credential-resets/confirm → 200: no tokens (rule 15: no automatic sign-in). */
export const ResetConfirmed = /* @__PURE__ */ (() => z.object({ message: z.string() }).check(z.meta({ id: 'ResetConfirmed' })))();
export type ResetConfirmed = z.infer<typeof ResetConfirmed>;

/** POST /patients/{patientId}/portal/credential-reset → 202. */
export const StaffResetSent = /* @__PURE__ */ (() => z
  .object({ expiresAt: IsoDateTime, delivery: Delivery })
  .check(z.meta({ id: 'StaffResetSent' })))();
export type StaffResetSent = z.infer<typeof StaffResetSent>;

/** POST /portal/forced-credential-change → 202. */
export const ForcedChangeStarted = /* @__PURE__ */ (() => z
  .object({
    count: z.number().check(z.int(), z.meta({ description: 'Registered patients who must now change their password at next sign-in (so far, while complete is false)' })),
    complete: z.boolean().check(z.meta({ description: 'False when the run stopped at its time budget: POST again to continue the same run' })),
    jobId: z.string(),
  })
  .check(z.meta({ id: 'ForcedChangeStarted' })))();
export type ForcedChangeStarted = z.infer<typeof ForcedChangeStarted>;
