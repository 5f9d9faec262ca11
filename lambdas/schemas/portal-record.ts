import * as z from 'zod/mini';
import { Cursor, IsoDateTime, Limit, PatientId } from './common.ts';

export const Email = /* @__PURE__ */ (() => z.email().check(z.maxLength(254)))();
const Phone = /* @__PURE__ */ (() => z.string().check(z.regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +15551234567')))();
const CaseNumber = /* @__PURE__ */ (() => z
  .string()
  .check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"')))();

export const RegistrationState = /* @__PURE__ */ (() => z.enum(['NotRegistered', 'ForcedRegistration', 'NormalRegistration']))();
export const InviteStatus = /* @__PURE__ */ (() => z.enum(['None', 'Pending', 'Accepted', 'Cancelled', 'Expired', 'Locked']))();
/** What became of an email we sent: SES's events (lambdas/domain/delivery.ts); Failed when SES refused the send. */
export const EmailDelivery = /* @__PURE__ */ (() => z.enum(['Sent', 'Delivered', 'Bounced', 'Complained', 'Suppressed', 'Failed']))();

export const PortalRecord = /* @__PURE__ */ (() => z
  .object({
    patientId: PatientId,
    accountId: z.optional(z.string()),
    username: z.optional(z.string()),
    email: z.optional(Email),
    phone: z.optional(Phone),
    masterCase: z.optional(CaseNumber),
    accessEnabled: z.boolean(),
    cases: z.array(CaseNumber),
    comment: z.optional(z.string()).check(z.meta({ description: 'Internal; never shown to the patient' })),
    registration: RegistrationState,
    invite: z.object({
      status: InviteStatus,
      sentAt: z.optional(IsoDateTime),
      expiresAt: z.optional(IsoDateTime),
      sentBy: z.optional(z.string()),
      delivery: z.optional(EmailDelivery),
      /** When the SES event behind `delivery` happened (an older event never overwrites a newer one). */
      deliveryAt: z.optional(IsoDateTime),
    }),
    /** The latest SES event for any email sent about this record (the diagnosis' email.lastDelivery). */
    emailDelivery: z.optional(z.object({ status: EmailDelivery, at: IsoDateTime, purpose: z.enum(['invitation', 'reset', 'other']) })),
    status: z.object({
      access: z.enum(['Enabled', 'Disabled']),
      registration: z.enum(['Not Registered', 'Forced Registration', 'Normal Registration']),
      invite: z.enum(['No Invite', 'Invite']),
    }),
    statusMessage: z.string().check(z.meta({ example: 'Enabled / Not Registered / No Invite' })),
    createdAt: IsoDateTime,
    updatedAt: IsoDateTime,
    registeredAt: z.optional(IsoDateTime).check(z.meta({ description: "When the record's login was first created (by any method); GET /patients?registeredSince= lists by it" })),
    version: z.number().check(z.int(), z.minimum(1)),
  })
  .check(z.meta({ id: 'PortalRecord' })))();
export type PortalRecord = z.infer<typeof PortalRecord>;

/** PUT /patients/{patientId}/portal: any of these; null clears an optional field. */
export const PortalRecordChange = /* @__PURE__ */ (() => z
  .strictObject({
    email: z.optional(z.nullable(Email)),
    phone: z.optional(z.nullable(Phone)),
    masterCase: z.optional(z.nullable(CaseNumber)),
    accessEnabled: z.optional(z.boolean()),
    cases: z.optional(z.array(CaseNumber).check(z.maxLength(200))),
    comment: z.optional(z.nullable(z.string().check(z.maxLength(2000)))),
  })
  .check(z.meta({ id: 'PortalRecordChange' })))();
export type PortalRecordChange = z.infer<typeof PortalRecordChange>;

export const PatientParams = /* @__PURE__ */ (() => z.strictObject({ patientId: PatientId }))();

/** If-Match: the record version the caller last saw (a bare integer or a quoted ETag). */
export const IfMatchHeader = /* @__PURE__ */ (() => z.strictObject({
  'if-match': z.optional(
    z.pipe(
      z.string().check(z.regex(/^(W\/)?"?\d{1,15}"?$/, 'must be the record version, e.g. 3')),
      z.transform((v: string) => Number(v.replace(/^W\//, '').replaceAll('"', ''))),
    ),
  ),
}))();

export const PatientSearchQuery = /* @__PURE__ */ (() => z.strictObject({
  query: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(254))),
  cursor: z.optional(Cursor),
  limit: Limit,
  registeredSince: z.optional(z.union([z.iso.datetime(), z.iso.date()])).check(z.meta({ description: 'Only records whose login was first created at or after this time (ISO date or date-time, UTC)' })),
}))();
export type PatientSearchQuery = z.infer<typeof PatientSearchQuery>;

export const PatientSearchResult = /* @__PURE__ */ (() => z
  .object({ items: z.array(PortalRecord), cursor: z.optional(Cursor) })
  .check(z.meta({ id: 'PatientSearchResult' })))();
