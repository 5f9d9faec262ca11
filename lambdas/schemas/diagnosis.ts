import { z } from 'zod';
import { IsoDateTime, PatientId } from './common.ts';
import { EmailDelivery, InviteStatus } from './portal-record.ts';

/** What SES said last about a message we sent (api.md "Delivery"): the record's own enum. */
export const DeliveryState = EmailDelivery;
export type DeliveryState = z.infer<typeof DeliveryState>;

export const DiagnosisReason = z
  .object({
    code: z.string().meta({ example: 'sign-in-locked' }),
    words: z.string().meta({ description: 'One plain sentence staff can read aloud, with what the front desk can do about it' }),
  })
  .meta({ id: 'DiagnosisReason' });
export type DiagnosisReason = z.infer<typeof DiagnosisReason>;

/** GET /patients/{patientId}/portal/diagnosis. Never a secret, a hash or a password. */
export const Diagnosis = z
  .object({
    patientId: PatientId,
    canSignIn: z.boolean(),
    reasons: z.array(DiagnosisReason),
    login: z.object({
      exists: z.boolean(),
      username: z.string().optional(),
      mustChangePassword: z.boolean(),
      temporaryPasswordExpiresAt: IsoDateTime.optional(),
      lastSignInAt: IsoDateTime.optional(),
      lastFailedSignInAt: IsoDateTime.optional(),
      failures: z.number().int().min(0),
      waitUntil: IsoDateTime.optional(),
      locked: z.boolean(),
    }),
    invitation: z.object({
      status: InviteStatus,
      sentAt: IsoDateTime.optional(),
      expiresAt: IsoDateTime.optional(),
      delivery: z.string().optional(),
    }),
    reset: z.object({ pendingUntil: IsoDateTime.optional(), delivery: z.string().optional() }),
    email: z.object({ address: z.string().optional(), lastDelivery: DeliveryState.optional() }),
  })
  .meta({ id: 'Diagnosis' });
export type Diagnosis = z.infer<typeof Diagnosis>;
