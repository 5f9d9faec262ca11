import * as z from 'zod/mini';
import { passwordLimits } from '../domain/password-policy.ts';

/**
 * A patient's chosen login name: ours (Cognito's username is the permanent accountId), unique
 * without regard to case, changeable.
 */
export const PatientUsername = /* @__PURE__ */ (() => z
  .string()
  .check(
    z.trim(),
    z.regex(/^[A-Za-z0-9._@+-]{3,64}$/, 'must be 3 to 64 letters, digits or . _ @ + -'),
    z.meta({ id: 'PatientUsername', example: 'pat.smith' }),
  ))();

/**
 * A password being set. Only the length bound is in the schema (so the OpenAPI document shows
 * it); the blocklist and username/email checks need context and live in password-policy.ts.
 */
export const NewPassword = /* @__PURE__ */ (() => z
  .string()
  .check(
    z.maxLength(passwordLimits.max + 1024, 'is far too long'),
    z.meta({ description: `${passwordLimits.min} to ${passwordLimits.max} characters; not a common password; must not contain the username or email` }),
  ))();

/** A password being presented (sign-in): any string the client sends, bounded. */
export const PresentedPassword = /* @__PURE__ */ (() => z.string().check(z.minLength(1), z.maxLength(1024)))();
