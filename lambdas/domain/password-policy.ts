/**
 * Patient (and staff) password rules, security rules 1-4, checked in our own layer at every
 * place a password is set (registration, first change, reset, account change), because
 * cognito-local enforces no policy and Cognito's cannot express a blocklist.
 *
 * Length 15..128 with no truncation and no composition rules; refused when on a common-password
 * list (zxcvbn-ts's list of ~49,000, a maintained package) or when it contains the username or
 * the email address. Each refusal says why in words.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

export const passwordLimits = { min: 15, max: 128 } as const;

let blocklist: Set<string> | undefined;
function commonPasswords(): Set<string> {
  blocklist ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return blocklist;
}

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
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) problems.push('is on a list of commonly used passwords; choose another');
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
