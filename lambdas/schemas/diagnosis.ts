import * as z from 'zod/mini';
import { IsoDateTime, PatientId } from './common.ts';
import { EmailDelivery, InviteStatus } from './portal-record.ts';

/** What SES said last about a message we sent (api.md "Delivery"): the record's own enum. */
export const DeliveryState = EmailDelivery;
export type DeliveryState = z.infer<typeof DeliveryState>;

export const DiagnosisReason = /* @__PURE__ */ (() => z
  .object({
    code: z.string().check(z.meta({ example: 'sign-in-locked' })),
    words: z.string().check(z.meta({ description: 'One plain sentence staff can read aloud, with what the front desk can do about it' })),
  })
  .check(z.meta({ id: 'DiagnosisReason' })))();
export type DiagnosisReason = z.infer<typeof DiagnosisReason>;

/** GET /patients/{patientId}/portal/diagnosis. Never a secret, a hash or a password. */
export const Diagnosis = /* @__PURE__ */ (() => z
  .object({
    patientId: PatientId,
    canSignIn: z.boolean(),
    reasons: z.array(DiagnosisReason),
    login: z.object({
      exists: z.boolean(),
      username: z.optional(z.string()),
      mustChangePassword: z.boolean(),
      temporaryPasswordExpiresAt: z.optional(IsoDateTime),
      lastSignInAt: z.optional(IsoDateTime),
      lastFailedSignInAt: z.optional(IsoDateTime),
      failures: z.number().check(z.int(), z.minimum(0)),
      waitUntil: z.optional(IsoDateTime),
      locked: z.boolean(),
    }),
    invitation: z.object({
      status: InviteStatus,
      sentAt: z.optional(IsoDateTime),
      expiresAt: z.optional(IsoDateTime),
      delivery: z.optional(z.string()),
    }),
    reset: z.object({ pendingUntil: z.optional(IsoDateTime), delivery: z.optional(z.string()) }),
    email: z.object({ address: z.optional(z.string()), lastDelivery: z.optional(DeliveryState) }),
  })
  .check(z.meta({ id: 'Diagnosis' })))();
export type Diagnosis = z.infer<typeof Diagnosis>;
