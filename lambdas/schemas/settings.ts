import * as z from 'zod/mini';

const PortalUrl = /* @__PURE__ */ (() => z.url({ protocol: /^https?$/ }).check(
  z.maxLength(512),
  z.refine((u) => u.startsWith('https://') || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/.test(u), {
    message: 'must be an https URL (http is allowed only for localhost)',
  }),
))();

export const Settings = /* @__PURE__ */ (() => z
  .strictObject({
    practiceName: z.string().check(z.trim(), z.minLength(1), z.maxLength(120)),
    portalUrl: PortalUrl.check(z.meta({ description: "Read-only: the deployment's portal URL, which every emailed link starts with. A PUT with another value is 400." })),
    invitationDays: z.number().check(z.int(), z.minimum(1), z.maximum(90)),
    temporaryPasswordHours: z.number().check(z.int(), z.minimum(1), z.maximum(720)),
    lobbyMinutes: z.number().check(z.int(), z.minimum(5), z.maximum(24 * 60)),
    resetMinutes: z.number().check(z.int(), z.minimum(5), z.maximum(24 * 60), z.meta({ description: 'At most 24 hours (security rule 12)' })),
    selfRegistration: z.boolean().check(z.meta({ description: 'The self-registration form (staff approve each request)' })),
    emailMatch: z.boolean().check(z.meta({ description: 'The email-match method: a patient whose record has their email and no login registers from a link sent there' })),
    patientReset: z.boolean(),
    autoInvite: z.boolean(),
    phoneCodes: z.boolean().check(z.meta({ description: 'Text a 6-digit code to the phone on file instead of the in-person PIN (needs the SMS settings of the deployment)' })),
    notifyEmail: z.optional(z.email().check(z.maxLength(254))).check(z.meta({ description: 'The practice inbox told, with no PHI, when there is work for staff' })),
  })
  .check(z.meta({ id: 'Settings' })))();
export type Settings = z.infer<typeof Settings>;

// From the shape: zod/mini counts meta as a check, and refuses `partial` of an object with checks.
// notifyEmail: null clears it (the only setting that may be absent).
export const SettingsChange = /* @__PURE__ */ (() => z
  .partial(z.strictObject({ ...Settings.shape, notifyEmail: z.nullable(z.email().check(z.maxLength(254))).check(z.meta({ description: 'null: no practice inbox is told' })) }))
  .check(z.meta({ id: 'SettingsChange' })))();
export type SettingsChange = z.infer<typeof SettingsChange>;
