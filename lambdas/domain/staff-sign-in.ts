/** Staff sign-in: the pool checks the password; we hold the guessing limits and the audit trail. */
import { auditEvent, staffTarget } from './audit.ts';
import { DomainError } from './errors.ts';
import type { Clock, RecordStore, SignInResult, StaffDirectory } from './ports.ts';
import { throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';
import { staffSignInRefusal } from './staff-admin.ts';

export interface StaffSignInDeps {
  staff: StaffDirectory;
  throttle: ThrottleStore;
  store: RecordStore;
  clock: Clock;
}

export async function signInStaff(
  deps: StaffSignInDeps,
  attempt: { username: string; password: string; sourceIp: string },
): Promise<SignInResult> {
  const { username, password, sourceIp } = attempt;
  const audit = (outcome: 'success' | 'failure', reason: string) =>
    deps.store.appendAudit(auditEvent({ id: username, sourceIp }, staffTarget(username), 'staff.sign-in', deps.clock(), { reason }, outcome));
  let refusal: string | undefined;
  try {
    const result = await throttledSignIn(deps, throttleKeys('staff', username, sourceIp, deps.clock()), () => deps.staff.signIn(username, password), {
      reserve: true,
    });
    // Rule 30: tokens only for a login whose staff record lets them be used (disabled: refused,
    // with the wrong-password answer; audited with the reason by the catch below).
    refusal = result.kind === 'tokens' ? await staffSignInRefusal(deps.store, result.accessToken) : undefined;
    if (refusal) throw new DomainError('unauthorized', 'invalid-credentials', 'The username or password is not right.');
    await audit('success', result.kind === 'challenge' ? result.challenge : 'tokens');
    return result;
  } catch (err) {
    if (err instanceof DomainError) await audit('failure', refusal ?? err.code);
    throw err;
  }
}
