import { z } from 'zod';
import { Cursor, IsoDateTime, Limit, PatientId } from './common.ts';

export const Email = z.email().max(254);
const Phone = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +15551234567');
const CaseNumber = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"');

export const RegistrationState = z.enum(['NotRegistered', 'ForcedRegistration', 'NormalRegistration']);
export const InviteStatus = z.enum(['None', 'Pending', 'Accepted', 'Cancelled', 'Expired', 'Locked']);
/** What became of an email we sent: SES's events (lambdas/domain/delivery.ts); Failed when SES refused the send. */
export const EmailDelivery = z.enum(['Sent', 'Delivered', 'Bounced', 'Complained', 'Suppressed', 'Failed']);

export const PortalRecord = z
  .object({
    patientId: PatientId,
    accountId: z.string().optional(),
    username: z.string().optional(),
    email: Email.optional(),
    phone: Phone.optional(),
    masterCase: CaseNumber.optional(),
    accessEnabled: z.boolean(),
    cases: z.array(CaseNumber),
    comment: z.string().optional().meta({ description: 'Internal; never shown to the patient' }),
    registration: RegistrationState,
    invite: z.object({
      status: InviteStatus,
      sentAt: IsoDateTime.optional(),
      expiresAt: IsoDateTime.optional(),
      sentBy: z.string().optional(),
      delivery: EmailDelivery.optional(),
      /** When the SES event behind `delivery` happened (an older event never overwrites a newer one). */
      deliveryAt: IsoDateTime.optional(),
    }),
    /** The latest SES event for any email sent about this record (the diagnosis' email.lastDelivery). */
    emailDelivery: z
      .object({ status: EmailDelivery, at: IsoDateTime, purpose: z.enum(['invitation', 'reset', 'other']) })
      .optional(),
    status: z.object({
      access: z.enum(['Enabled', 'Disabled']),
      registration: z.enum(['Not Registered', 'Forced Registration', 'Normal Registration']),
      invite: z.enum(['No Invite', 'Invite']),
    }),
    statusMessage: z.string().meta({ example: 'Enabled / Not Registered / No Invite' }),
    createdAt: IsoDateTime,
    updatedAt: IsoDateTime,
    registeredAt: IsoDateTime.optional().meta({ description: "When the record's login was first created (by any method); GET /patients?registeredSince= lists by it" }),
    version: z.number().int().min(1),
  })
  .meta({ id: 'PortalRecord' });
export type PortalRecord = z.infer<typeof PortalRecord>;

/** PUT /patients/{patientId}/portal: any of these; null clears an optional field. */
export const PortalRecordChange = z
  .strictObject({
    email: Email.nullable().optional(),
    phone: Phone.nullable().optional(),
    masterCase: CaseNumber.nullable().optional(),
    accessEnabled: z.boolean().optional(),
    cases: z.array(CaseNumber).max(200).optional(),
    comment: z.string().max(2000).nullable().optional(),
  })
  .meta({ id: 'PortalRecordChange' });
export type PortalRecordChange = z.infer<typeof PortalRecordChange>;

export const PatientParams = z.strictObject({ patientId: PatientId });

/** If-Match: the record version the caller last saw (a bare integer or a quoted ETag). */
export const IfMatchHeader = z.strictObject({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d{1,15}"?$/, 'must be the record version, e.g. 3')
    .transform((v) => Number(v.replace(/^W\//, '').replaceAll('"', '')))
    .optional(),
});

export const PatientSearchQuery = z.strictObject({
  query: z.string().trim().min(1).max(254).optional(),
  cursor: Cursor.optional(),
  limit: Limit,
  registeredSince: z.union([z.iso.datetime(), z.iso.date()]).optional().meta({ description: 'Only records whose login was first created at or after this time (ISO date or date-time, UTC)' }),
});
export type PatientSearchQuery = z.infer<typeof PatientSearchQuery>;

export const PatientSearchResult = z
  .object({ items: z.array(PortalRecord), cursor: Cursor.optional() })
  .meta({ id: 'PatientSearchResult' });
