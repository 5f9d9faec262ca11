/** Invitations and registration: shapes of the invitation, access-code and registration routes. */
import * as z from 'zod/mini';
import { IsoDateTime } from './common.ts';
import { NewPassword, PatientUsername } from './patient.ts';
import { PortalRecord } from './portal-record.ts';
import { ExistingLogin } from './proxy.ts';

/**
 * A link token as the patient's browser sends it back. Deliberately loose: a token we never
 * issued must get the same 410 as an expired or used one (security rule 11), not a 400 that
 * tells the two apart. Only the bounds protect us from junk.
 */
export const LinkToken = /* @__PURE__ */ (() => z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(512),
    z.meta({ description: 'The token after `#token=` in the emailed link; only ever sent in a POST body, never in a path or query (rule 26)' }),
  ))();

/** Whether the invitation email reached SES. "Failed": the invitation exists; resend it. */
export const Delivery = /* @__PURE__ */ (() => z.enum(['Sent', 'Failed']))();
export type Delivery = z.infer<typeof Delivery>;

/** POST /patients/{patientId}/portal/invitation → 201. The PIN is shown here once (and by access-code). */
export const InvitationCreated = /* @__PURE__ */ (() => z
  .object({
    pin: z.string().check(z.meta({ description: 'Give it to the patient in person; it is never emailed', example: 'K7MX4R' })),
    expiresAt: IsoDateTime,
    delivery: Delivery,
    record: PortalRecord,
  })
  .check(z.meta({ id: 'InvitationCreated' })))();
export type InvitationCreated = z.infer<typeof InvitationCreated>;

/** POST …/invitation/resend → 200: a new link, the same PIN, a new expiry. */
export const InvitationResent = /* @__PURE__ */ (() => z
  .object({ expiresAt: IsoDateTime, delivery: Delivery, record: PortalRecord })
  .check(z.meta({ id: 'InvitationResent' })))();
export type InvitationResent = z.infer<typeof InvitationResent>;

/** GET …/access-code → 200: the pending invitation's PIN again (audited). */
export const AccessCode = /* @__PURE__ */ (() => z.object({ pin: z.string(), expiresAt: IsoDateTime }).check(z.meta({ id: 'AccessCode' })))();
export type AccessCode = z.infer<typeof AccessCode>;

/**
 * POST /invitations/lookup: the link's token in the body, never in the path or query (rule 26:
 * API Gateway tracing and any proxy in between record full URLs). Replaces GET /invitations/{token}.
 */
export const InvitationLookupRequest = /* @__PURE__ */ (() => z.strictObject({ token: LinkToken }).check(z.meta({ id: 'InvitationLookupRequest' })))();
export type InvitationLookupRequest = z.infer<typeof InvitationLookupRequest>;

/** POST /invitations/lookup → 200: what the register page needs to show (api.md). */
export const InvitationLookup = /* @__PURE__ */ (() => z
  .object({
    practiceName: z.string(),
    expiresAt: IsoDateTime,
    needs: z.array(z.enum(['pin', 'phoneCode'])).check(z.meta({ description: 'What registering asks for besides the link: ["pin"], or ["pin", "phoneCode"] where a texted code can replace the PIN' })),
    kind: z.enum(['patient', 'proxy']).check(z.meta({ description: 'Whose login the invitation creates: the patient\'s own, or a proxy\'s' })),
  })
  .check(z.meta({ id: 'InvitationLookup' })))();
export type InvitationLookup = z.infer<typeof InvitationLookup>;

/** POST /registrations. */
export const RegistrationRequest = /* @__PURE__ */ (() => z
  .strictObject({
    token: LinkToken,
    // Any case, with or without spaces or a dash; a malformed PIN is simply a wrong PIN.
    pin: z.optional(z.string().check(z.minLength(1), z.maxLength(32))),
    // Issue 17: the texted code in place of the PIN (exactly one of the two; 400 otherwise).
    phoneCode: z.optional(z.string().check(z.minLength(1), z.maxLength(32))).check(z.meta({ description: 'The 6-digit code texted by POST /invitations/phone-code, in place of pin' })),
    username: z.optional(PatientUsername),
    password: z.optional(NewPassword),
    // A proxy invitation (issue 18) may instead add the record to a login the proxy already has.
    existingLogin: z.optional(ExistingLogin),
  })
  .check(
    z.refine((v) => (v.existingLogin === undefined) === (v.username !== undefined && v.password !== undefined) && !(v.existingLogin && (v.username || v.password)), {
      message: 'give username and password for a new login, or existingLogin, not both',
      path: ['username'],
    }),
  )
  .check(z.meta({ id: 'RegistrationRequest' })))();
export type RegistrationRequest = z.infer<typeof RegistrationRequest>;

/** POST /registrations → 201. */
export const Registered = /* @__PURE__ */ (() => z
  .object({
    accountId: z.string().check(z.meta({ description: 'The permanent id of the new login' })),
    username: z.string(),
  })
  .check(z.meta({ id: 'Registered' })))();
export type Registered = z.infer<typeof Registered>;
