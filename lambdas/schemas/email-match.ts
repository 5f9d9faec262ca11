/** The email-match registration method and the auto-invite event: request and answer shapes. */
import * as z from 'zod/mini';
import { PatientId, StaffId } from './common.ts';
import { LinkToken } from './invitation.ts';
import { NewPassword, PatientUsername } from './patient.ts';
import { Email } from './portal-record.ts';

/** POST /registrations/email. */
export const EmailMatchRequest = /* @__PURE__ */ (() => z.strictObject({ email: Email }).check(z.meta({ id: 'EmailMatchRequest' })))();
export type EmailMatchRequest = z.infer<typeof EmailMatchRequest>;

/** POST /registrations/email → 202, always this one body, matched or not (security rule 13). */
export const EmailMatchAccepted = /* @__PURE__ */ (() => z
  .object({ message: z.string() })
  .check(
    z.meta({
      id: 'EmailMatchAccepted',
      description: 'The same answer whether or not the address matched a record: it reveals nothing about who is a patient',
    }),
  ))();
export type EmailMatchAccepted = z.infer<typeof EmailMatchAccepted>;

/** POST /registrations/email/confirm. */
export const EmailMatchConfirm = /* @__PURE__ */ (() => z
  .strictObject({ token: LinkToken, username: PatientUsername, password: NewPassword })
  .check(z.meta({ id: 'EmailMatchConfirm' })))();
export type EmailMatchConfirm = z.infer<typeof EmailMatchConfirm>;

/** Why a signed note did not invite; machine-readable, stable. */
export const AutoInviteReason = /* @__PURE__ */ (() => z.enum([
  'practice-setting-off',
  'signer-not-enabled',
  'no-record',
  'already-registered',
  'access-disabled',
  'no-email',
  'invitation-pending',
]))();
export type AutoInviteReason = z.infer<typeof AutoInviteReason>;

/** POST /events/note-signed. */
export const NoteSigned = /* @__PURE__ */ (() => z
  .strictObject({
    patientId: PatientId,
    /** The staff user (staff-pool username) who signed the note. */
    signedBy: StaffId,
  })
  .check(z.meta({ id: 'NoteSigned' })))();
export type NoteSigned = z.infer<typeof NoteSigned>;

/** POST /events/note-signed → 202. The PIN is never in it: staff see it through GET …/access-code. */
export const AutoInviteResult = /* @__PURE__ */ (() => z
  .object({
    invited: z.boolean(),
    reason: z.optional(AutoInviteReason),
    delivery: z.optional(z.enum(['Sent', 'Failed'])).check(z.meta({ description: 'Only when invited: whether SES took the email' })),
    expiresAt: z.optional(z.iso.datetime()),
  })
  .check(z.meta({ id: 'AutoInviteResult' })))();
export type AutoInviteResult = z.infer<typeof AutoInviteResult>;
