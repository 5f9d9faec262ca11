/** The real adapters, built once per cold start, for handlers to hand to the domain. */
import { config } from '../config.ts';
import type { AccountStore, ChallengeStore, Clock, PatientLogins, RecordStore, RegisterLeaseStore, StaffDirectory } from '../domain/ports.ts';
import type { SettingsDefaults } from '../domain/settings.ts';
import type { ThrottleStore } from '../domain/sign-in-throttle.ts';
import { dynamoAccounts, dynamoChallenges } from './dynamo-accounts.ts';
import { dynamoRegisterLeases } from './dynamo-register-lease.ts';
import { dynamoStore } from './dynamo-store.ts';
import type { Mailer, PinVault } from '../domain/invitations.ts';
import { configuredPinVault } from './pin-vault.ts';
import { sesMailer } from './ses-mailer.ts';
import { cognitoPatientLogins } from './patient-logins.ts';
import { dynamoThrottle } from './dynamo-throttle.ts';
import { cognitoStaffDirectory } from './staff-directory.ts';
import { cognitoStaffChallenges } from './staff-directory.ts';
import type { StaffChallenges } from '../domain/ports.ts';
import type { EmailMatchStore } from '../domain/email-match.ts';
import { dynamoEmailMatch } from './dynamo-email-match.ts';
import type { ResetStore } from '../domain/resets.ts';
import type { ForcedChangeJobStore } from '../domain/forced-change.ts';
import { dynamoForcedChangeJobs, dynamoResets } from './dynamo-resets.ts';

const realTime: Clock = () => new Date();
let clock: Clock = realTime;

/**
 * The clock every handler uses. It is passed in, never looked up: in Lambda nothing is passed
 * and it is the real time. The local stack in test mode passes its own clock to `setClock`
 * (lib/local/test-clock.ts, moved by `PUT /__test/clock`), so integration tests check expiry
 * without sleeping. No test branch: the handlers always ask this one clock.
 */
export const systemClock: Clock = () => clock();

/** Runs the handlers on `next` from now on; no argument puts back the real time. Never called in Lambda. */
export function setClock(next: Clock = realTime): void {
  clock = next;
}

let store: RecordStore | undefined;
let staff: StaffDirectory | undefined;
let throttle: ThrottleStore | undefined;
let accounts: AccountStore | undefined;
let logins: PatientLogins | undefined;
let challenges: ChallengeStore | undefined;
let registerLeases: RegisterLeaseStore | undefined;

export const recordStore = (): RecordStore => (store ??= dynamoStore());
export const staffDirectory = (): StaffDirectory => (staff ??= cognitoStaffDirectory());
let staffSignInChallenges: StaffChallenges | undefined;
export const staffChallenges = (): StaffChallenges => (staffSignInChallenges ??= cognitoStaffChallenges());
export const signInThrottle = (): ThrottleStore => (throttle ??= dynamoThrottle());
export const accountStore = (): AccountStore => (accounts ??= dynamoAccounts());
export const patientLogins = (): PatientLogins => (logins ??= cognitoPatientLogins());
export const challengeStore = (): ChallengeStore => (challenges ??= dynamoChallenges());
export const registerLeaseStore = (): RegisterLeaseStore => (registerLeases ??= dynamoRegisterLeases());

/** What the patient-login domain functions take, with the real adapters. */
export const patientDeps = () => ({
  store: recordStore(),
  accounts: accountStore(),
  logins: patientLogins(),
  challenges: challengeStore(),
  throttle: signInThrottle(),
  clock: systemClock,
});

let vault: PinVault | undefined;
let mail: Mailer | undefined;

export const pinVault = (): PinVault => (vault ??= configuredPinVault());
export const mailer = (): Mailer => (mail ??= sesMailer());

let resets: ResetStore | undefined;
let forcedChangeJobs: ForcedChangeJobStore | undefined;

export const resetStore = (): ResetStore => (resets ??= dynamoResets());
export const forcedChangeJobStore = (): ForcedChangeJobStore => (forcedChangeJobs ??= dynamoForcedChangeJobs());

export function settingsDefaults(): SettingsDefaults {
  const c = config();
  return { practiceName: c.PRACTICE_NAME, portalUrl: c.PORTAL_URL };
}

let emailMatches: EmailMatchStore | undefined;

/** Email-match links (lambdas/adapters/dynamo-email-match.ts). */
export const emailMatchStore = (): EmailMatchStore => (emailMatches ??= dynamoEmailMatch());
