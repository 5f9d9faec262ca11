/**
 * Self-registration with staff approval (issue 19): request and answer shapes.
 *
 * Retention (the person's data lives only as long as the request, then DynamoDB's `ttl` deletes
 * it; every read checks the time itself as well, since DynamoDB Local never deletes anything):
 *   Unverified — the email link works 24 hours; unproved, the request is gone after those 24 hours.
 *   Pending    — waits for staff 30 days after the address was proved, then is gone.
 *   Approved, Rejected — kept 7 days after the decision (for the console's lists), then gone.
 */
import * as z from 'zod/mini';
import { Cursor, IsoDateTime, Limit, PatientId } from './common.ts';
import { LinkToken } from './invitation.ts';

/** Hours an unproved request (and its email link) lives. */
export const SELF_REGISTRATION_LINK_HOURS = 24;
/** Days a proved request waits for staff before it expires. */
export const SELF_REGISTRATION_PENDING_DAYS = 30;
/** Days an approved or rejected request is kept after the decision. */
export const SELF_REGISTRATION_DECIDED_DAYS = 7;

const retention = `Unverified requests expire ${SELF_REGISTRATION_LINK_HOURS} hours after they are made; Pending ones ${SELF_REGISTRATION_PENDING_DAYS} days after the address was proved; Approved and Rejected ones are deleted ${SELF_REGISTRATION_DECIDED_DAYS} days after the decision. Nothing of the person is kept beyond that.`;

/** A name as the person typed it: 1..100 characters, no control characters, trimmed. */
const PersonName = /* @__PURE__ */ (() => z.string().check(z.trim(), z.minLength(1), z.maxLength(100), z.regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')))();

/** YYYY-MM-DD, a real calendar date. */
const DateOfBirth = /* @__PURE__ */ (() => z.iso.date().check(z.meta({ description: 'YYYY-MM-DD', example: '1980-04-30' })))();

const RequestEmail = /* @__PURE__ */ (() => z.email().check(z.maxLength(254)))();
const RequestPhone = /* @__PURE__ */ (() => z.string().check(z.regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +15551234567')))();

export const SelfRegistrationStatus = /* @__PURE__ */ (() => z.enum(['Pending', 'Approved', 'Rejected']).check(z.meta({
  id: 'SelfRegistrationStatus',
  description: 'Pending: the address is proved, staff have not decided. Unproved requests are never listed.',
})))();
export type SelfRegistrationStatus = z.infer<typeof SelfRegistrationStatus>;

/** POST /self-registrations. */
export const SelfRegistrationRequest = /* @__PURE__ */ (() => z
  .strictObject({
    firstName: PersonName,
    lastName: PersonName,
    dateOfBirth: DateOfBirth,
    email: RequestEmail,
    phone: z.optional(RequestPhone),
  })
  .check(z.meta({ id: 'SelfRegistrationRequest', description: retention })))();
export type SelfRegistrationRequest = z.infer<typeof SelfRegistrationRequest>;

/** POST /self-registrations → 202: always this one body (rule 13). */
export const SelfRegistrationAccepted = /* @__PURE__ */ (() => z.object({ message: z.string() }).check(z.meta({
  id: 'SelfRegistrationAccepted',
  description: 'The same answer for every address, known or not, with or without a login, and for a repeated request: it reveals nothing',
})))();
export type SelfRegistrationAccepted = z.infer<typeof SelfRegistrationAccepted>;

/** POST /self-registrations/verify. */
export const SelfRegistrationVerify = /* @__PURE__ */ (() => z.strictObject({ token: LinkToken }).check(z.meta({ id: 'SelfRegistrationVerify' })))();
export type SelfRegistrationVerify = z.infer<typeof SelfRegistrationVerify>;

/** POST /self-registrations/verify → 200. */
export const SelfRegistrationVerified = /* @__PURE__ */ (() => z.object({ status: z.literal('Pending') }).check(z.meta({ id: 'SelfRegistrationVerified' })))();
export type SelfRegistrationVerified = z.infer<typeof SelfRegistrationVerified>;

/** GET /self-registrations?status=&cursor=&limit=. */
export const SelfRegistrationQuery = /* @__PURE__ */ (() => z.strictObject({
  status: z.optional(SelfRegistrationStatus),
  cursor: z.optional(Cursor),
  limit: Limit,
}))();
export type SelfRegistrationQuery = z.infer<typeof SelfRegistrationQuery>;

export const SelfRegistrationParams = /* @__PURE__ */ (() => z.strictObject({
  requestId: z.string().check(z.regex(/^[0-9a-f-]{36}$/, 'is not a request id this service handed out')),
}))();

/** One request as staff see it. */
export const SelfRegistration = /* @__PURE__ */ (() => z
  .object({
    requestId: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    dateOfBirth: z.string(),
    email: z.string(),
    phone: z.optional(z.string()),
    status: SelfRegistrationStatus,
    createdAt: IsoDateTime,
    verifiedAt: z.optional(IsoDateTime),
    decidedAt: z.optional(IsoDateTime),
    decidedBy: z.optional(z.string()),
    patientId: z.optional(z.string().check(z.meta({ description: 'Approved: the record the request was linked to' }))),
    reason: z.optional(z.string().check(z.meta({ description: 'Rejected: the reason staff gave (never emailed)' }))),
    deleteAt: IsoDateTime.check(z.meta({ description: 'When this request and everything the person entered is deleted' })),
  })
  .check(z.meta({ id: 'SelfRegistration', description: retention })))();
export type SelfRegistration = z.infer<typeof SelfRegistration>;

export const SelfRegistrationPage = /* @__PURE__ */ (() => z
  .object({ items: z.array(SelfRegistration), cursor: z.optional(Cursor) })
  .check(z.meta({ id: 'SelfRegistrationPage', description: 'Oldest first' })))();
export type SelfRegistrationPage = z.infer<typeof SelfRegistrationPage>;

/** POST /self-registrations/{requestId}/approve. */
export const SelfRegistrationApprove = /* @__PURE__ */ (() => z.strictObject({ patientId: PatientId }).check(z.meta({ id: 'SelfRegistrationApprove' })))();
export type SelfRegistrationApprove = z.infer<typeof SelfRegistrationApprove>;

/** POST /self-registrations/{requestId}/reject. */
export const SelfRegistrationReject = /* @__PURE__ */ (() => z
  .strictObject({ reason: z.string().check(z.trim(), z.minLength(1), z.maxLength(500)) })
  .check(z.meta({ id: 'SelfRegistrationReject', description: 'The reason is kept with the request for staff; the person is never sent it' })))();
export type SelfRegistrationReject = z.infer<typeof SelfRegistrationReject>;

/** POST /self-registrations/{requestId}/reject → 200. */
export const SelfRegistrationRejected = /* @__PURE__ */ (() => z
  .object({ requestId: z.string(), status: z.literal('Rejected'), deleteAt: IsoDateTime })
  .check(z.meta({ id: 'SelfRegistrationRejected' })))();
export type SelfRegistrationRejected = z.infer<typeof SelfRegistrationRejected>;

