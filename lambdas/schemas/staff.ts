import * as z from 'zod/mini';
import { StaffId } from './common.ts';

export const StaffPermissions = /* @__PURE__ */ (() => z
  .strictObject({ canInvite: z.boolean(), autoInvite: z.boolean() })
  .check(z.meta({ id: 'StaffPermissions' })))();
export type StaffPermissions = z.infer<typeof StaffPermissions>;

// From the shape: zod/mini counts meta as a check, and refuses `partial` of an object with checks.
export const StaffPermissionsChange = /* @__PURE__ */ (() => z.partial(z.strictObject(StaffPermissions.shape)).check(z.meta({ id: 'StaffPermissionsChange' })))();
export type StaffPermissionsChange = z.infer<typeof StaffPermissionsChange>;

export const StaffParams = /* @__PURE__ */ (() => z.strictObject({ staffId: StaffId }))();

export const SignInRequest = /* @__PURE__ */ (() => z
  .strictObject({
    username: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)),
    password: z.string().check(z.minLength(1), z.maxLength(256)),
  })
  .check(z.meta({ id: 'SignInRequest' })))();
export type SignInRequest = z.infer<typeof SignInRequest>;

export const Tokens = /* @__PURE__ */ (() => z
  .object({
    accessToken: z.string(),
    idToken: z.string(),
    refreshToken: z.string(),
    expiresIn: z.number().check(z.int()),
  })
  .check(z.meta({ id: 'Tokens' })))();
export type Tokens = z.infer<typeof Tokens>;

export const Challenge = /* @__PURE__ */ (() => z
  .object({ challenge: z.string().check(z.meta({ example: 'NEW_PASSWORD_REQUIRED' })), session: z.string() })
  .check(z.meta({ id: 'Challenge' })))();
export type Challenge = z.infer<typeof Challenge>;

/** The challenges a staff sign-in can answer (the staff pool requires TOTP). */
export const StaffChallengeName = /* @__PURE__ */ (() => z.enum(['NEW_PASSWORD_REQUIRED', 'MFA_SETUP', 'SOFTWARE_TOKEN_MFA']).check(z.meta({ id: 'StaffChallengeName' })))();

/** The session we hand out with a staff challenge: sealed, opaque to the caller. */
const StaffSession = /* @__PURE__ */ (() => z.string().check(z.regex(/^[A-Za-z0-9_-]{1,8192}$/, 'is not a session this service handed out')))();
const TotpCode = /* @__PURE__ */ (() => z.string().check(z.regex(/^\d{6}$/, 'must be the 6 digits the authenticator app shows')))();

export const StaffChallenge = /* @__PURE__ */ (() => z
  .object({
    challenge: StaffChallengeName,
    session: z.string(),
    /** MFA_SETUP only: the base32 secret for the authenticator app, and the same as a URI for a QR code. */
    secretCode: z.optional(z.string()),
    otpauthUri: z.optional(z.string()),
  })
  .check(z.meta({ id: 'StaffChallenge' })))();
export type StaffChallenge = z.infer<typeof StaffChallenge>;

/** POST /staff/sessions and its challenge step answer tokens or the next challenge (no id: written inline). */
export const StaffSignInAnswer = /* @__PURE__ */ (() => z.union([Tokens, StaffChallenge]))();

/** POST /sessions answers tokens or a challenge (no id: written inline). */
export const PatientSignInAnswer = /* @__PURE__ */ (() => z.union([Tokens, Challenge]))();

export const StaffNewPasswordAnswer = /* @__PURE__ */ (() => z
  .strictObject({ challenge: z.literal('NEW_PASSWORD_REQUIRED'), session: StaffSession, newPassword: z.string().check(z.minLength(1), z.maxLength(256)) })
  .check(z.meta({ id: 'StaffNewPasswordAnswer' })))();

/** Without `code` it starts the enrolment (answers `secretCode`); with the first code it finishes it. */
export const StaffMfaSetupAnswer = /* @__PURE__ */ (() => z
  .strictObject({ challenge: z.literal('MFA_SETUP'), session: StaffSession, code: z.optional(TotpCode) })
  .check(z.meta({ id: 'StaffMfaSetupAnswer' })))();

export const StaffTotpAnswer = /* @__PURE__ */ (() => z
  .strictObject({ challenge: z.literal('SOFTWARE_TOKEN_MFA'), session: StaffSession, code: TotpCode })
  .check(z.meta({ id: 'StaffTotpAnswer' })))();

export const StaffChallengeAnswer = /* @__PURE__ */ (() => z
  .discriminatedUnion('challenge', [StaffNewPasswordAnswer, StaffMfaSetupAnswer, StaffTotpAnswer])
  .check(z.meta({ id: 'StaffChallengeAnswer' })))();
export type StaffChallengeAnswer = z.infer<typeof StaffChallengeAnswer>;
