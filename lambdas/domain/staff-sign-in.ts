/**
 * Staff sign-in with TOTP (rule 30). The pool checks the password and the codes; we hold the
 * guessing limits, the audit trail, and which user a challenge session belongs to.
 *
 *  - A challenge's session goes to the caller sealed (AES-256-GCM under a key derived from the
 *    staff app client's secret) together with the pool's name for the user and the step it is
 *    for, so the answer to a challenge names the user the password proved, never one the caller
 *    chose: a caller cannot swap users or skip a step.
 *  - Every answer that carries a code reserves a try before the code is checked, per user (a
 *    counter of its own: a right password must not wipe the wrong codes) and per address; a code
 *    that already signed the user in is refused (Cognito does the same in AWS).
 *  - A failed password sign-in keeps only a keyed hash of what was typed as the username.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { auditEvent, staffTarget, type AuditEvent } from './audit.ts';
import { DomainError } from './errors.ts';
import { passwordProblems } from './password-policy.ts';
import type { CallerContext, Clock, RecordStore, SignInResult, StaffChallenges, StaffChallengeResult, StaffChallengeStep, StaffDirectory } from './ports.ts';
import { throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';
import { staffSignInRefusal } from './staff-admin.ts';

export interface StaffSignInDeps {
  staff: StaffDirectory;
  challenges: StaffChallenges;
  throttle: ThrottleStore;
  store: RecordStore;
  clock: Clock;
  /** The issuer the authenticator app shows (the practice's name). */
  issuer: string;
}

export type StaffChallengeName = 'NEW_PASSWORD_REQUIRED' | 'MFA_SETUP' | 'SOFTWARE_TOKEN_MFA';
const known: readonly string[] = ['NEW_PASSWORD_REQUIRED', 'MFA_SETUP', 'SOFTWARE_TOKEN_MFA'];

export type StaffSignInAnswer =
  | Extract<SignInResult, { kind: 'tokens' }>
  | { kind: 'challenge'; challenge: StaffChallengeName; session: string; secretCode?: string; otpauthUri?: string };

/** Cognito keeps a sign-in session for 3 to 15 minutes (AuthSessionValidity); ours never outlives that. */
export const SEALED_SESSION_MS = 15 * 60 * 1000;
/** A code is refused again for this long after it was offered (it is valid ±30 s around its step). */
export const USED_CODE_MS = 2 * 60 * 1000;

/** What a sealed session carries. `stage` tells the MFA_SETUP start from its verification. */
interface Sealed {
  u: string;
  s: string;
  c: StaffChallengeName;
  stage: 'answer' | 'verify';
  exp: number;
}

const deadSession = () =>
  new DomainError('unauthorized', 'invalid-credentials', 'The code is not right, or this sign-in step has expired. Sign in again.');

export async function signInStaff(
  deps: StaffSignInDeps,
  attempt: { username: string; password: string; context: CallerContext },
): Promise<StaffSignInAnswer> {
  const { username, password, context } = attempt;
  const now = deps.clock();
  const keys = throttleKeys('staff', username, context.sourceIp, now);
  // After a right password the reservation is still held: it ends in the audit entry's transaction (issue 16).
  let reserved = false;
  const write = (event: AuditEvent) => (reserved ? deps.throttle.clearAccount(keys.accountKey, event) : deps.store.appendAudit(event));
  try {
    const result = await throttledSignIn(deps, keys, () => deps.staff.signIn(username, password, context), { reserve: true, clearLater: true, together: true });
    reserved = true;
    const answer = await toAnswer(deps, result.kind === 'challenge' ? result.username ?? username : username, result, now);
    await write(
      auditEvent({ id: username, sourceIp: context.sourceIp }, staffTarget(username), 'staff.sign-in', now, { reason: answer.kind === 'challenge' ? answer.challenge : 'tokens' }),
    );
    return answer;
  } catch (err) {
    if (err instanceof DomainError) {
      // Rule 30: the username field of a failed sign-in may hold a password typed in the wrong
      // place, and the audit is append-only: keep a keyed hash. The key is derived from the staff
      // app client's secret (HKDF, purpose "audit-username"), which only the sign-in functions
      // can read: the same typed name gives the same hash (repeated attempts stay visible), but
      // nobody with the audit alone can test guesses against it, unlike the unkeyed SHA-256 of
      // the throttle keys (sign-in-throttle.ts), whose inputs are not kept anywhere.
      const typed = await typedUsernameHash(deps, username);
      await write(auditEvent({ id: typed, sourceIp: context.sourceIp }, staffTarget(typed), 'staff.sign-in', now, { reason: err.code }, 'failure'));
    } else if (reserved) {
      // A backend failed after the right password: the reservation is given back, best effort.
      await deps.throttle.clearAccount(keys.accountKey).catch(() => undefined);
    }
    throw err;
  }
}

/** `typed:` + the first 128 bits of HMAC-SHA256(key, trimmed lower-case name), base64url. */
export async function typedUsernameHash(deps: Pick<StaffSignInDeps, 'challenges'>, typed: string): Promise<string> {
  const key = await deps.challenges.key('audit-username');
  return `typed:${createHmac('sha256', key).update(typed.trim().toLowerCase()).digest().subarray(0, 16).toString('base64url')}`;
}

export type StaffChallengeRequest =
  | { challenge: 'NEW_PASSWORD_REQUIRED'; session: string; newPassword: string }
  | { challenge: 'MFA_SETUP'; session: string; code?: string }
  | { challenge: 'SOFTWARE_TOKEN_MFA'; session: string; code: string };

export async function answerStaffChallenge(
  deps: StaffSignInDeps,
  request: StaffChallengeRequest,
  context: CallerContext,
): Promise<StaffSignInAnswer> {
  const now = deps.clock();
  const sealed = await open(deps, request.session, now);
  const step = sealed ? stepFor(request, sealed) : undefined;
  if (!sealed || !step) throw deadSession();
  const username = sealed.u;
  const audit = (outcome: 'success' | 'failure', reason: string) =>
    deps.store.appendAudit(
      auditEvent({ id: username, sourceIp: context.sourceIp }, staffTarget(username), 'staff.sign-in-challenge', now, { challenge: request.challenge, reason }, outcome),
    );
  try {
    let result: StaffChallengeResult;
    if ('code' in step) {
      const code = step.code;
      // A counter of its own per user: the password step clears its counter on success, and
      // must not clear the count of wrong codes with it.
      const keys = throttleKeys('staff', `totp:${username}`, context.sourceIp, now);
      result = await throttledSignIn(
        deps,
        keys,
        async () => {
          await refuseUsedCode(deps, username, code, keys.addressKey, now);
          return deps.challenges.respond(username, step, context);
        },
        { reserve: true },
      );
    } else {
      if (step.challenge === 'NEW_PASSWORD_REQUIRED') {
        // The session proves the temporary password: rules that mention the username may run (rule 27).
        const problems = passwordProblems(step.newPassword, { username });
        if (problems.length > 0) {
          throw new DomainError('bad-request', 'validation-error', 'The new password cannot be used.', {
            errors: problems.map((message) => ({ path: 'body.newPassword', message })),
          });
        }
      }
      result = await deps.challenges.respond(username, step, context);
    }
    const answer = result.kind === 'enrol' ? await enrolAnswer(deps, username, result, now) : await toAnswer(deps, username, result, now);
    await audit('success', answer.kind === 'challenge' ? answer.challenge : 'tokens');
    return answer;
  } catch (err) {
    if (err instanceof DomainError) await audit('failure', err.code);
    throw err;
  }
}

/** The pool's step for this request, when the sealed session was issued for it. */
function stepFor(request: StaffChallengeRequest, sealed: Sealed): StaffChallengeStep | undefined {
  if (request.challenge !== sealed.c) return undefined;
  const session = sealed.s;
  switch (request.challenge) {
    case 'NEW_PASSWORD_REQUIRED':
      return sealed.stage === 'answer' ? { challenge: 'NEW_PASSWORD_REQUIRED', session, newPassword: request.newPassword } : undefined;
    case 'SOFTWARE_TOKEN_MFA':
      return sealed.stage === 'answer' ? { challenge: 'SOFTWARE_TOKEN_MFA', session, code: request.code } : undefined;
    case 'MFA_SETUP':
      if (request.code === undefined) return sealed.stage === 'answer' ? { challenge: 'MFA_SETUP', session } : undefined;
      return sealed.stage === 'verify' ? { challenge: 'MFA_SETUP', session, code: request.code } : undefined;
  }
}

/**
 * A code offered for this user in the last two minutes is refused without asking the pool. The
 * mark is taken with the throttle store's conditional reservation, so two concurrent requests
 * with the same code cannot both pass.
 */
async function refuseUsedCode(deps: StaffSignInDeps, username: string, code: string, addressKey: string, now: Date): Promise<void> {
  const usedKey = throttleKeys('staff', `totp-used:${username}:${code}`, '', now).accountKey;
  const { account } = await deps.throttle.read(usedKey, addressKey);
  if (account && now.getTime() - account.lastFailureAt < USED_CODE_MS) throw deadSession();
  if (!(await deps.throttle.reserve(usedKey, account, now))) throw deadSession();
}

async function toAnswer(deps: StaffSignInDeps, username: string, result: SignInResult, now: Date): Promise<StaffSignInAnswer> {
  if (result.kind === 'tokens') {
    // Rule 30: tokens only for a login whose staff record lets them be used (cognito-local lets a
    // disabled login sign in); refused with the wrong-password answer.
    if (await staffSignInRefusal(deps.store, result.accessToken)) throw new DomainError('unauthorized', 'invalid-credentials', 'The username or password is not right.');
    return result;
  }
  if (!known.includes(result.challenge)) throw new Error(`the staff pool asked for an unexpected challenge ${result.challenge}`);
  const challenge = result.challenge as StaffChallengeName;
  return { kind: 'challenge', challenge, session: await seal(deps, { u: username, s: result.session, c: challenge, stage: 'answer', exp: now.getTime() + SEALED_SESSION_MS }) };
}

async function enrolAnswer(deps: StaffSignInDeps, username: string, result: { secretCode: string; session: string }, now: Date): Promise<StaffSignInAnswer> {
  return {
    kind: 'challenge',
    challenge: 'MFA_SETUP',
    session: await seal(deps, { u: username, s: result.session, c: 'MFA_SETUP', stage: 'verify', exp: now.getTime() + SEALED_SESSION_MS }),
    secretCode: result.secretCode,
    otpauthUri: otpauthUri(deps.issuer, username, result.secretCode),
  };
}

/** `otpauth://totp/<issuer>:<username>?secret=…&issuer=…` (Key Uri Format), each part URL-encoded. */
export function otpauthUri(issuer: string, username: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(username)}`;
  return `otpauth://totp/${label}?secret=${encodeURIComponent(secret)}&issuer=${encodeURIComponent(issuer)}`;
}

async function seal(deps: StaffSignInDeps, value: Sealed): Promise<string> {
  const key = await deps.challenges.key('session-seal');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

async function open(deps: StaffSignInDeps, session: string, now: Date): Promise<Sealed | undefined> {
  const key = await deps.challenges.key('session-seal');
  try {
    const raw = Buffer.from(session, 'base64url');
    if (raw.length < 29) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const value = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Sealed;
    if (typeof value.u !== 'string' || typeof value.s !== 'string' || typeof value.exp !== 'number' || value.exp <= now.getTime()) return undefined;
    return value;
  } catch {
    return undefined;
  }
}
