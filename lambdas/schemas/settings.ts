import { z } from 'zod';

const PortalUrl = z
  .url({ protocol: /^https?$/ })
  .max(512)
  .refine((u) => u.startsWith('https://') || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/.test(u), {
    message: 'must be an https URL (http is allowed only for localhost)',
  });

export const Settings = z
  .strictObject({
    practiceName: z.string().trim().min(1).max(120),
    portalUrl: PortalUrl.meta({ description: "Read-only: the deployment's portal URL, which every emailed link starts with. A PUT with another value is 400." }),
    invitationDays: z.number().int().min(1).max(90),
    temporaryPasswordHours: z.number().int().min(1).max(720),
    lobbyMinutes: z.number().int().min(5).max(24 * 60),
    resetMinutes: z.number().int().min(5).max(24 * 60).meta({ description: 'At most 24 hours (security rule 12)' }),
    selfRegistration: z.boolean().meta({ description: 'The self-registration form (staff approve each request)' }),
    emailMatch: z.boolean().meta({ description: 'The email-match method: a patient whose record has their email and no login registers from a link sent there' }),
    patientReset: z.boolean(),
    autoInvite: z.boolean(),
    phoneCodes: z.boolean().meta({ description: 'Text a 6-digit code to the phone on file instead of the in-person PIN (needs the SMS settings of the deployment)' }),
    notifyEmail: z.email().max(254).optional().meta({ description: 'The practice inbox told, with no PHI, when there is work for staff' }),
  })
  .meta({ id: 'Settings' });
export type Settings = z.infer<typeof Settings>;

export const SettingsChange = Settings.partial().meta({ id: 'SettingsChange' });
export type SettingsChange = z.infer<typeof SettingsChange>;
