/**
 * Patient sign-in and the new-password step. Cognito checks passwords and issues tokens; our
 * record holds what cognito-local cannot (../shared/emulators.md): access enabled, the "must
 * change password" state of a temporary password or forced change, and its expiry. So the
 * same checks run here, locally and in AWS.
 */
import { auditEvent, patientTarget } from './audit.ts';
import { DomainError } from './errors.ts';
import { passwordProblems } from './password-policy.ts';
import type { AccountStore, ChallengeStore, Clock, PatientLogins, RecordStore, SignInResult } from './ports.ts';
import type { CallerContext } from './ports.ts';
import { sessionGenerationOf, sessionStillLive, type StoredRecord } from './portal-record.ts';
import { opaqueToken, sha256 } from './secrets.ts';
import { throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';

export interface PatientSignInDeps {
  accounts: AccountStore;
  store: RecordStore;
  logins: PatientLogins;
  challenges: ChallengeStore;
  throttle: ThrottleStore;
  clock: Clock;
}

export type Tokens = Extract<SignInResult, { kind: 'tokens' }>;
export type PatientSignInResult = Tokens | { kind: 'challenge'; challenge: 'NEW_PASSWORD_REQUIRED'; session: string };

/** The audit target of sign-ins with a username no login has (no patient to file them under). */
export const unknownSignInTarget = 'patient-sign-in';

/** How long the new-password step stays open after a sign-in with a temporary password. */
export const challengeMinutes = 10;

/** One body for a wrong password and an unknown username, with the reset offer (api.md). */
export const patientSignInRefused = () =>
  new DomainError('unauthorized', 'invalid-credentials', 'The username or password is not right.', { fields: { resetAvailable: true } });

const accessDisabled = () =>
  new DomainError('forbidden', 'access-disabled', 'Portal access for this account is turned off. Please contact the practice.');

const temporaryPasswordExpired = () =>
  new DomainError(
    'unauthorized',
    'temporary-password-expired',
    'This temporary password has expired. Please ask the practice for a new one.',
  );

export const badPassword = (problems: string[], path = 'body.newPassword') =>
  new DomainError('bad-request', 'validation-error', 'The new password cannot be used.', {
    errors: problems.map((message) => ({ path, message })),
  });

export async function signInPatient(
  deps: PatientSignInDeps,
  attempt: { username: string; password: string; sourceIp: string; context?: CallerContext },
): Promise<PatientSignInResult> {
  const now = deps.clock();
  const keys = throttleKeys('patient', attempt.username, attempt.sourceIp, now);
  let record: StoredRecord | undefined;
  let link: { accountId: string; patientId: string } | undefined;
  let asked = false;
  // A proxy's login with no record of its own (lambdas/domain/proxies.ts): its username names no record.
  let proxyOnly: string | undefined;
  // Every attempt that reached the pool is audited (rule 18): a wrong password on the patient's
  // record (actor unproven, so anonymous), an unknown username under a target of its own, so
  // both cases cost the same one write (rule 13).
  const audit = (outcome: 'success' | 'failure', reason: string) =>
    proxyOnly
      ? deps.store.appendAudit(auditEvent({ id: `patient:${proxyOnly}`, sourceIp: attempt.sourceIp }, loginTarget(proxyOnly), 'patient.sign-in', now, { reason }, outcome))
      : record
      ? deps.store.appendAudit(
          auditEvent({ id: `patient:${record.accountId}`, sourceIp: attempt.sourceIp }, patientTarget(record.patientId), 'patient.sign-in', now, { reason }, outcome),
        )
      : asked
        ? deps.store.appendAudit(
            auditEvent({ id: 'anonymous', sourceIp: attempt.sourceIp }, link ? patientTarget(link.patientId) : unknownSignInTarget, 'patient.sign-in', now, { reason }, outcome),
          )
        : Promise.resolve();
  try {
    const result = await throttledSignIn(deps, keys, async () => {
      link = await deps.accounts.findByUsername(attempt.username);
      asked = true;
      // An unknown username still asks the pool (for a login that cannot exist), so that both
      // cases take the same time and give the same answer (security rule 13).
      const signedIn = await deps.logins.signIn(link?.accountId ?? `unknown-${opaqueToken()}`, attempt.password, attempt.context).catch((err: unknown) => {
        if (err instanceof DomainError && err.code === 'invalid-credentials') throw patientSignInRefused();
        throw err;
      });
      if (link?.patientId === '') {
        proxyOnly = link.accountId;
        return signedIn;
      }
      const known = link ? await deps.store.getRecord(link.patientId) : undefined;
      if (!known || known.accountId !== link?.accountId) throw patientSignInRefused();
      record = known;
      return signedIn;
    }, { reserve: true });
    const answer = proxyOnly ? proxyTokens(result) : await afterPassword(deps, record!, result, now);
    await audit('success', answer.kind === 'challenge' ? 'new-password-required' : 'tokens');
    return answer;
  } catch (err) {
    if (err instanceof DomainError) await audit('failure', err.code);
    throw err;
  }
}

/** The audit target of a proxy-only login's own events (its sign-ins): it has no record to file them under. */
export const loginTarget = (accountId: string) => `login:${accountId}`;

/** A proxy-only login has no record to decide anything: the password was right, here are its tokens. */
function proxyTokens(result: SignInResult): Tokens {
  if (result.kind !== 'tokens') throw new Error(`unexpected challenge ${result.challenge} from the patient pool`);
  return result;
}

/** The password was right: now our record decides between tokens, a challenge and a refusal. */
async function afterPassword(deps: PatientSignInDeps, record: StoredRecord, result: SignInResult, now: Date): Promise<PatientSignInResult> {
  if (!record.accessEnabled) {
    await discard(deps, result);
    throw accessDisabled();
  }
  if (record.login?.mustChangePassword) {
    await discard(deps, result);
    const expiry = record.login.temporaryPasswordExpiresAt;
    if (expiry && Date.parse(expiry) <= now.getTime()) throw temporaryPasswordExpired();
    const session = opaqueToken();
    await deps.challenges.create(sha256(session), {
      accountId: record.accountId!,
      patientId: record.patientId,
      expiresAt: new Date(now.getTime() + challengeMinutes * 60_000).toISOString(),
      generation: sessionGenerationOf(record),
    });
    return { kind: 'challenge', challenge: 'NEW_PASSWORD_REQUIRED', session };
  }
  if (result.kind !== 'tokens') throw new Error(`unexpected challenge ${result.challenge} from the patient pool`);
  return result;
}

/** Tokens issued for a sign-in we refuse are revoked at once, not left to expire. */
async function discard(deps: PatientSignInDeps, result: SignInResult): Promise<void> {
  if (result.kind === 'tokens') await deps.logins.revokeRefreshToken(result.refreshToken);
}

/**
 * Completes the NEW_PASSWORD_REQUIRED step: our password rules, an optional new username, the
 * record's "must change" state cleared and the session consumed in one transaction, then a
 * normal sign-in with the new password. A retry with the same session after a failure in the
 * middle completes it; a second use of a completed session is refused.
 */
export async function completeNewPassword(
  deps: PatientSignInDeps,
  request: { session: string; newPassword: string; newUsername?: string; sourceIp: string },
): Promise<Tokens> {
  const now = deps.clock();
  const sessionHash = sha256(request.session);
  const challenge = await deps.challenges.get(sessionHash);
  if (!challenge || Date.parse(challenge.expiresAt) <= now.getTime()) {
    throw new DomainError('unauthorized', 'session-expired', 'This sign-in step has expired or was already completed. Sign in again.');
  }
  const record = await deps.store.getRecord(challenge.patientId);
  // Bound to the temporary password it was issued for (issue 13 item 7) by the revocation rule
  // (rule 17): the record's generation must still be exactly the step's. Register Patient again,
  // revoke (and re-enable), a reset, a forced change, an email change: each bumped it, and the step
  // is over. Finished by another session: "must change" is cleared, and the step is over too.
  const expiry = record?.login?.temporaryPasswordExpiresAt;
  if (
    !record ||
    record.accountId !== challenge.accountId ||
    !record.accessEnabled ||
    !sessionStillLive(challenge.generation, record) ||
    !record.login?.mustChangePassword ||
    (expiry !== undefined && Date.parse(expiry) <= now.getTime())
  ) {
    throw new DomainError('unauthorized', 'session-expired', 'This sign-in step has expired or was already completed. Sign in again.');
  }
  const username = request.newUsername ?? record.username ?? '';
  const problems = passwordProblems(request.newPassword, { username, ...(record.email ? { email: record.email } : {}) });
  if (problems.length > 0) throw badPassword(problems);
  if (request.newUsername && request.newUsername.toLowerCase() !== record.username?.toLowerCase()) {
    const holder = await deps.accounts.findByUsername(request.newUsername);
    if (holder && holder.accountId !== record.accountId) throw new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');
  }
  await deps.logins.setPassword(challenge.accountId, request.newPassword);
  // Tokens before the commit that uses up the session: a failure after it would leave a retry
  // with the same session nothing to complete (rule 24).
  const result = await deps.logins.signIn(challenge.accountId, request.newPassword);
  if (result.kind !== 'tokens') throw new Error('no tokens after the new password was set');
  const next: StoredRecord = { ...record, username, login: {}, updatedAt: now.toISOString(), version: record.version + 1 };
  delete next.login;
  await deps.accounts.saveLogin(
    next,
    record.version,
    auditEvent({ id: `patient:${record.accountId}`, sourceIp: request.sourceIp }, patientTarget(record.patientId), 'patient.new-password', now, {
      usernameChanged: username !== record.username,
    }),
    { claim: username, ...(record.username ? { release: record.username } : {}), consumeChallenge: sessionHash },
  ).catch(async (err: unknown) => {
    // Those tokens go unanswered: end them now rather than at their expiry.
    await deps.logins.revokeRefreshToken(result.refreshToken).catch(() => undefined);
    throw err;
  });
  return result;
}
