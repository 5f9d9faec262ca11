/** Invitations and registration: shapes of the invitation, access-code and registration routes. */
import { z } from 'zod';
import { IsoDateTime } from './common.ts';
import { NewPassword, PatientUsername } from './patient.ts';
import { PortalRecord } from './portal-record.ts';
import { ExistingLogin } from './proxy.ts';

/**
 * A link token as the patient's browser sends it back. Deliberately loose: a token we never
 * issued must get the same 410 as an expired or used one (security rule 11), not a 400 that
 * tells the two apart. Only the bounds protect us from junk.
 */
export const LinkToken = z
  .string()
  .min(1)
  .max(512)
  .meta({ description: 'The token after `#token=` in the emailed link; only ever sent in a POST body, never in a path or query (rule 26)' });

/** Whether the invitation email reached SES. "Failed": the invitation exists; resend it. */
export const Delivery = z.enum(['Sent', 'Failed']);
export type Delivery = z.infer<typeof Delivery>;

/** POST /patients/{patientId}/portal/invitation → 201. The PIN is shown here once (and by access-code). */
export const InvitationCreated = z
  .object({
    pin: z.string().meta({ description: 'Give it to the patient in person; it is never emailed', example: 'K7MX4R' }),
    expiresAt: IsoDateTime,
    delivery: Delivery,
    record: PortalRecord,
  })
  .meta({ id: 'InvitationCreated' });
export type InvitationCreated = z.infer<typeof InvitationCreated>;

/** POST …/invitation/resend → 200: a new link, the same PIN, a new expiry. */
export const InvitationResent = z
  .object({ expiresAt: IsoDateTime, delivery: Delivery, record: PortalRecord })
  .meta({ id: 'InvitationResent' });
export type InvitationResent = z.infer<typeof InvitationResent>;

/** GET …/access-code → 200: the pending invitation's PIN again (audited). */
export const AccessCode = z.object({ pin: z.string(), expiresAt: IsoDateTime }).meta({ id: 'AccessCode' });
export type AccessCode = z.infer<typeof AccessCode>;

/**
 * POST /invitations/lookup: the link's token in the body, never in the path or query (rule 26:
 * API Gateway tracing and any proxy in between record full URLs). Replaces GET /invitations/{token}.
 */
export const InvitationLookupRequest = z.strictObject({ token: LinkToken }).meta({ id: 'InvitationLookupRequest' });
export type InvitationLookupRequest = z.infer<typeof InvitationLookupRequest>;

/** POST /invitations/lookup → 200: what the register page needs to show (api.md). */
export const InvitationLookup = z
  .object({
    practiceName: z.string(),
    expiresAt: IsoDateTime,
    needs: z.array(z.enum(['pin', 'phoneCode'])).meta({ description: 'What registering asks for besides the link: ["pin"], or ["pin", "phoneCode"] where a texted code can replace the PIN' }),
    kind: z.enum(['patient', 'proxy']).meta({ description: 'Whose login the invitation creates: the patient\'s own, or a proxy\'s' }),
  })
  .meta({ id: 'InvitationLookup' });
export type InvitationLookup = z.infer<typeof InvitationLookup>;

/** POST /registrations. */
export const RegistrationRequest = z
  .strictObject({
    token: LinkToken,
    // Any case, with or without spaces or a dash; a malformed PIN is simply a wrong PIN.
    pin: z.string().min(1).max(32),
    username: PatientUsername.optional(),
    password: NewPassword.optional(),
    // A proxy invitation (issue 18) may instead add the record to a login the proxy already has.
    existingLogin: ExistingLogin.optional(),
  })
  .refine((v) => (v.existingLogin === undefined) === (v.username !== undefined && v.password !== undefined) && !(v.existingLogin && (v.username || v.password)), {
    message: 'give username and password for a new login, or existingLogin, not both',
    path: ['username'],
  })
  .meta({ id: 'RegistrationRequest' });
export type RegistrationRequest = z.infer<typeof RegistrationRequest>;

/** POST /registrations → 201. */
export const Registered = z
  .object({
    accountId: z.string().meta({ description: 'The permanent id of the new login' }),
    username: z.string(),
  })
  .meta({ id: 'Registered' });
export type Registered = z.infer<typeof Registered>;
