/** Phone codes (issue 17): the shapes of POST /invitations/phone-code and the settings' availability. */
// The functional style both zod and zod/mini accept (the route table still takes classic zod types).
import * as z from 'zod/mini';
import { LinkToken } from './invitation.ts';
import { Settings } from './settings.ts';

/** POST /invitations/phone-code: the invitation link's token, in the body (rule 26). */
export const PhoneCodeRequest = /* @__PURE__ */ (() => z.strictObject({ token: LinkToken }).check(z.meta({ id: 'PhoneCodeRequest' })))();
export type PhoneCodeRequest = z.infer<typeof PhoneCodeRequest>;

/** → 202, one body whatever happened (rule 33). */
export const PhoneCodeRequested = /* @__PURE__ */ (() => z.strictObject({ message: z.string() }).check(z.meta({
  id: 'PhoneCodeRequested',
  example: { message: 'If this invitation can use a texted code, a code is on its way to the phone number the practice has on file. It works for 10 minutes.' },
})))();
export type PhoneCodeRequested = z.infer<typeof PhoneCodeRequested>;

/** The typed code: any digits with spaces or a dash; a malformed one is simply a wrong code (one try). */
export const PhoneCode = /* @__PURE__ */ (() => z.string().check(z.minLength(1), z.maxLength(32)))();

/**
 * GET /settings → 200: the settings plus what the deployment allows (read-only, never stored):
 * whether phoneCodes can be on, and why not, so the console can say it.
 */
export const SettingsView = /* @__PURE__ */ (() => z.strictObject({
  ...Settings.shape,
  phoneCodesAvailable: z.boolean(),
  phoneCodesUnavailableReason: z.optional(z.string()),
}).check(z.meta({ id: 'SettingsView' })))();
export type SettingsView = z.infer<typeof SettingsView>;
