/**
 * Invitations, patient side: look a link up (POST /invitations/lookup) and register with it
 * (POST /registrations). Security rules 3, 7, 9, 10, 11, 13, 18, 24, 25.
 *
 * The steps are the one-time link's (one-time-link.ts) under the invitation policy
 * (invitations.ts invitationPolicy); registration adds the password, the username and what the
 * commit does. Registration, step by step, each safe to repeat:
 *   1. The link: its hash must name a pending, unexpired, unlocked invitation of a record with
 *      access enabled; anything else is the one 410 (rule 11). Dead links count against the
 *      source address (rule 6).
 *   2. The PIN: a try is reserved first, in the same conditional write as the lease of step 4
 *      (at most 5 reserved-and-wrong or in flight, one compare at a time, rule 5; issue 16), then
 *      the PIN is compared in constant time against the opened seal. A wrong one counts and lets
 *      go of the lease in one write (the try kept); the 5th locks the invitation and kills the
 *      link (rule 7). A right one keeps lease and try until the commit (any failure gives both
 *      back). Throttled per address too.
 *   3. The password rules and a first look at the username (409 before anything is written).
 *   4. The lease: one registration at a time per invitation (20 at once: one goes on, the rest
 *      get 409 "in progress", or 410 once it has finished). The lease fixes the accountId on
 *      the invitation before Cognito is called, so a retry after any failure creates or
 *      updates the same login and never a second one.
 *   5. Cognito: create the login (username = accountId) or set its password if a failed
 *      attempt already created it.
 *   6. One transaction: the record registered, the invitation Accepted, the link deleted, the
 *      accountId linked, the username claimed, the audit entry. If it definitely fails (the
 *      username was taken meanwhile, or staff cancelled), the login from step 5 is removed and
 *      the lease let go; if its outcome is unknown, nothing is undone and a retry completes it.
 */
import { randomUUID } from 'node:crypto';
import { auditEvent, patientTarget } from './audit.ts';
import { DomainError } from './errors.ts';
import {
  invitationLinks,
  invitationPolicy,
  linkGone,
  type InvitationLinks,
  type PinVault,
} from './invitations.ts';
import { lookUp, useLink } from './one-time-link.ts';
import { passwordProblems } from './password-policy.ts';
import { invitationNeeds, phoneCodeSecret, type PhoneCodeKey, type SmsAvailability } from './phone-codes.ts';
import { firstLoginStamp, linksStillLive } from './portal-record.ts';
import type { AccountStore, Clock, PatientLogins, RecordStore } from './ports.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import type { PracticeNoticeKind } from './practice-notices.ts';
import type { ThrottleStore } from './sign-in-throttle.ts';
// Rule 31: Cognito's own refusal of a password, mapped to this request's field.
import { isPasswordRefusal, passwordRefusedByPool } from './password-policy.ts';

export { LEASE_SECONDS, linkGone } from './invitations.ts';

const pinOrPhoneCode = () =>
  new DomainError('bad-request', 'validation-error', 'The request is not valid.', {
    errors: [{ path: 'body.pin', message: 'give exactly one of pin and phoneCode' }],
  });

/** Without a phone-code key nothing matches: a code typed where none can be stored is a wrong try. */
const noKey: PhoneCodeKey = { mac: async () => randomUUID() };

const usernameTaken = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

export interface LinkDeps {
  store: RecordStore;
  invitations: InvitationLinks;
  throttle: ThrottleStore;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
  /** Whether this deployment can text (issue 17); without it no phone code is offered. */
  sms?: SmsAvailability;
}

export interface RegistrationDeps extends LinkDeps {
  accounts: Pick<AccountStore, 'findByUsername'>;
  logins: Pick<PatientLogins, 'upsert' | 'remove'>;
  vault: PinVault;
  /** The keyed hash of phone codes (issue 17); without it a phone code never matches. */
  phoneCodeKey?: PhoneCodeKey;
  /**
   * Tells the practice (issue 19) once the registration is committed. `settings` answers the
   * settings item read beside the record (issue 16: the notice makes no read of its own).
   * Never throws, whatever the settings hold (practice-notices.ts).
   */
  notify?: (kind: PracticeNoticeKind, settings: Pick<RecordStore, 'getSettings'>) => Promise<void>;
}

/** Step 1, the link: the one-time link's look-up under the invitation policy. */
const openLink = (deps: LinkDeps, token: string, sourceIp: string) => lookUp({ ...deps, links: deps.invitations }, invitationLinks, token, sourceIp);

/** POST /invitations/lookup (the token in the body, rule 26). */
export async function checkInvitation(
  deps: LinkDeps,
  token: string,
  sourceIp: string,
): Promise<{ practiceName: string; expiresAt: string; needs: ['pin'] | ['pin', 'phoneCode']; kind: 'patient' }> {
  const { state, record } = await openLink(deps, token, sourceIp);
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  const needs = invitationNeeds(settings, record, deps.sms ?? { configured: false });
  return { practiceName: settings.practiceName, expiresAt: state.expiresAt, needs, kind: 'patient' };
}

export interface RegistrationAttempt {
  token: string;
  /** Exactly one of `pin` and `phoneCode` (issue 17: the texted code in place of the PIN). */
  pin?: string;
  phoneCode?: string;
  username: string;
  password: string;
  sourceIp: string;
}

/** POST /registrations. */
export async function register(deps: RegistrationDeps, attempt: RegistrationAttempt): Promise<{ accountId: string; username: string }> {
  const { token, pin, phoneCode, username, password, sourceIp } = attempt;
  if ((pin === undefined) === (phoneCode === undefined)) throw pinOrPhoneCode();
  const policy = phoneCode === undefined ? invitationPolicy(deps.vault) : invitationPolicy(deps.vault, phoneCodeSecret(deps.phoneCodeKey ?? noKey, deps.clock));
  const linkDeps = { ...deps, links: deps.invitations };
  // Two reads (issue 16): the counters, the link and the username's holder; then invitation,
  // record and the settings item the practice notice reads (parsed by the notice, whose failure
  // never fails the registration).
  const live = await lookUp(linkDeps, invitationLinks, token, sourceIp, {
    first: () => deps.accounts.findByUsername(username),
    withState: () => deps.store.getSettings(),
  });
  const patientId = live.state.patientId;

  // Steps 2-6 (useLink): ONE write takes the lease (and with it the accountId) and reserves the
  // PIN's try (rule 5); the PIN (or phone code) is compared under it; then the password and the
  // username; the login; the one transaction. A failure after a right PIN gives lease and try back.
  const { accountId } = await useLink(linkDeps, policy, live, phoneCode === undefined ? { pin: pin! } : { phoneCode }, sourceIp, {
    newAccountId: randomUUID(),
    // Step 3: the password (rule 3, with the reason in words) and the username, once the PIN is right.
    check: () => {
      const problems = passwordProblems(password, { username, ...(live.record.email ? { email: live.record.email } : {}) });
      if (problems.length > 0) {
        throw new DomainError('bad-request', 'validation-error', 'The password cannot be used.', {
          errors: problems.map((message) => ({ path: 'body.password', message })),
        });
      }
      if (live.first) throw usernameTaken();
    },
    // Safe to repeat: the same accountId every time.
    outside: async (accountId) => {
      await deps.logins.upsert(accountId, password).catch((err: unknown) => {
        // Cognito refused a password our rules accepted (rule 31): this request's field is `password`.
        throw isPasswordRefusal(err) ? passwordRefusedByPool('body.password') : err;
      });
    },
    undo: (accountId) => deps.logins.remove(accountId),
    commit: (record, state, at, accountId) => {
      if (!record || !policy.recordAllows(record, state)) throw linkGone();
      // Rule 29: an email change or access off since the link was issued (also if undone since).
      if (!linksStillLive(state.linkGeneration, record)) throw linkGone();
      const { login: _login, ...rest } = record;
      return {
        record: { ...rest, invite: { ...record.invite, status: 'Accepted' }, accountId, username, registration: 'NormalRegistration', ...firstLoginStamp(record, at) },
        linkAccount: true,
        usernames: { claim: username },
        audit: auditEvent({ id: accountId, sourceIp }, patientTarget(patientId), 'registration.completed', at, { method: 'invitation' }),
      };
    },
  });
  const settingsRead = live.withState;
  await deps.notify?.('patient-registered', { getSettings: async () => settingsRead });
  return { accountId, username };
}
