/**
 * Patient (and staff) password rules, security rules 1-4, checked in our own layer at every
 * place a password is set (registration, first change, reset, account change), because
 * cognito-local enforces no policy and Cognito's cannot express a blocklist.
 *
 * Length 15..128 with no truncation and no composition rules; refused when on a common-password
 * list (zxcvbn-ts's list of ~49,000, a maintained package) or when it contains the username or
 * the email address. Each refusal says why in words. Of that list only the 41 entries long enough
 * to pass rule 1 are kept (./common-passwords.ts says why that is exact): the whole list was
 * 380 KB of every function that sets a password, parsed at cold start (issue 16).
 *
 * Rule 31: nothing we accept may be refused by Cognito in AWS (a 500, and at registration a login
 * without a record). Cognito's PasswordType is at most 256 characters and matches
 * `[\S]+.*[\S]+`: no whitespace at either end and no line break anywhere (`.` stops at line
 * terminators). So: no leading or trailing whitespace (any Unicode space: stricter than Cognito's
 * ASCII `\S`, never looser), and no line breaks or other control characters. Our 128-character
 * limit counts code points, at most two UTF-16 units each: within Cognito's 256 by itself. The
 * pool's own policy (lib/stack/identity.ts) asks for 15 characters and no composition, as here.
 * Anything Cognito still refuses is mapped by the adapter to the same 400 (passwordRefusedByPool).
 */
import { commonLongPasswords } from './common-passwords.ts';
import { DomainError } from './errors.ts';

export const passwordLimits = { min: 15, max: 128 } as const;

/**
 * Cognito refused a password our rules accepted (InvalidPasswordException): the same 400 as our
 * own rules, never a 500 (rule 31). Thrown by the adapter; `path` names the field of the request.
 */
export const passwordRefusedByPool = (path = 'body.newPassword') =>
  new DomainError('bad-request', 'validation-error', 'The new password cannot be used.', {
    errors: [{ path, message: 'cannot be used by the sign-in service; choose another' }],
  });

export const isPasswordRefusal = (err: unknown): err is DomainError =>
  err instanceof DomainError && err.kind === 'bad-request' && err.code === 'validation-error';

// Built on first use: every function imports this module for passwordLimits (schemas/patient.ts).
let blocklist: ReadonlySet<string> | undefined;

export interface PasswordContext {
  username?: string;
  email?: string;
}

/** The reasons a password is refused; empty when it is acceptable. */
export function passwordProblems(password: string, context: PasswordContext = {}): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < passwordLimits.min) problems.push(`must be at least ${passwordLimits.min} characters`);
  if (length > passwordLimits.max) problems.push(`must be at most ${passwordLimits.max} characters`);
  if (/^\s|\s$/u.test(password)) problems.push('must not begin or end with a space');
  // Line breaks (Cognito refuses them) and other control characters (no keyboard types them).
  if (/[\p{Cc}\u2028\u2029\u0085]/u.test(password)) problems.push('must not contain line breaks or control characters');
  const lower = password.toLowerCase();
  blocklist ??= new Set(commonLongPasswords);
  if (blocklist.has(lower)) problems.push('is on a list of commonly used passwords; choose another');
  if (length > 0 && new Set(lower).size === 1) problems.push('must not be one character repeated');
  const username = context.username?.trim().toLowerCase();
  if (username && username.length >= 3 && lower.includes(username)) problems.push('must not contain your username');
  const email = context.email?.trim().toLowerCase();
  const localPart = email?.split('@')[0];
  if (email && (lower.includes(email) || (localPart && localPart.length >= 3 && lower.includes(localPart)))) {
    problems.push('must not contain your email address');
  }
  return problems;
}
