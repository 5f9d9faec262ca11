/**
 * "I can't get in" (issue 15): every reason this patient can or cannot sign in, each a code and
 * one plain sentence the front desk can read aloud, with what they can do about it. Built from
 * facts only: the record, the login's state on it, the sign-in throttle of its username, the
 * invitation and the last delivery event SES reported. Never a secret, a hash or a password:
 * what goes out is picked field by field below, nothing is spread from a stored item.
 */
import { DeliveryState, type Diagnosis, type DiagnosisReason } from '../schemas/diagnosis.ts';
import type { Settings } from '../schemas/settings.ts';
import type { AuditEvent } from './audit.ts';
import { patientTarget } from './audit.ts';
import { notFound } from './errors.ts';
import type { Clock, RecordStore } from './ports.ts';
import { present, type StoredRecord } from './portal-record.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import { accountThrottleKey, accountWaitSeconds, throttlePolicy, type AccountFailures, type ThrottleStore } from './sign-in-throttle.ts';

/** What the diagnosis is made from; every part but the record is optional. */
export interface DiagnosisFacts {
  record: StoredRecord;
  settings: Pick<Settings, 'patientReset'>;
  /** The failure counter of the login's username, as the sign-in throttle holds it. */
  throttle?: AccountFailures;
  /** From the audit trail: the last successful and failed sign-ins. */
  lastSignInAt?: string;
  lastFailedSignInAt?: string;
  /** A credential reset still pending (its link works until then). */
  reset?: { pendingUntil?: string; delivery?: string };
  now: Date;
}

/** Times as the front desk reads them: "9:14 UTC", with the date when it is not today. */
export function spokenTime(iso: string | number, now: Date): string {
  const at = new Date(iso);
  const hm = `${at.getUTCHours()}:${String(at.getUTCMinutes()).padStart(2, '0')} UTC`;
  if (at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return hm;
  const day = at.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return `${hm} on ${day}`;
}

const badDelivery: Partial<Record<DeliveryState, string>> = {
  Bounced: 'bounced',
  Complained: 'was marked as spam by the receiver',
  Suppressed: 'was refused by the mail service because the address is on its suppression list',
  Failed: 'could not be sent',
};

/** The diagnosis: a plain function of the facts, so the table test can walk every state. */
export function diagnose(facts: DiagnosisFacts): Diagnosis {
  const { record, now } = facts;
  const shown = present(record, now);
  const reasons: DiagnosisReason[] = [];
  const add = (code: string, words: string) => reasons.push({ code, words });
  const at = (iso: string | number) => spokenTime(iso, now);

  const hasLogin = record.accountId !== undefined;
  const throttle = hasLogin ? facts.throttle : undefined;
  const wait = accountWaitSeconds(throttle, now);
  const locked = wait === Infinity;
  const waitUntil = !locked && wait > 0 ? new Date(now.getTime() + wait * 1000).toISOString() : undefined;
  const mustChange = record.login?.mustChangePassword === true;
  const tempExpiry = record.login?.temporaryPasswordExpiresAt;
  const tempExpired = mustChange && tempExpiry !== undefined && Date.parse(tempExpiry) <= now.getTime();
  const invite = shown.invite;
  // The latest SES event of any email about this record (delivery events), else the pending
  // invitation's own mark; an email change forgets both (the invitation is cancelled with it).
  const parsedDelivery = DeliveryState.safeParse(record.emailDelivery?.status ?? (record.invite.status === 'Pending' ? record.invite.delivery : undefined));
  const lastDelivery = parsedDelivery.success ? parsedDelivery.data : undefined;

  if (!record.accessEnabled) {
    add('access-disabled', 'Portal access is turned off for this patient. If they should have access, turn access on in the record.');
  }
  if (!hasLogin) {
    if (invite.status === 'Pending') {
      add(
        'invitation-pending',
        `An invitation was sent${invite.sentAt ? ` at ${at(invite.sentAt)}` : ''} and works until ${invite.expiresAt ? at(invite.expiresAt) : 'it is used'}. The patient opens the emailed link and enters the PIN; if the PIN is lost, show it again.`,
      );
    } else if (invite.status === 'Expired') {
      add('invitation-expired', `The invitation expired${invite.expiresAt ? ` at ${at(invite.expiresAt)}` : ''}. Send a new invitation, or use Register Patient for a temporary password.`);
    } else if (invite.status === 'Locked') {
      add('invitation-locked', 'The invitation locked after too many wrong PINs. After checking who is calling, send a new invitation or use Register Patient.');
    }
    add('no-login', 'This patient has no portal login yet. Send an invitation, or use Register Patient to give a temporary password.');
  }
  if (lastDelivery && badDelivery[lastDelivery]) {
    add(
      'email-bounced',
      `The last email to ${record.email ?? 'the patient'} ${badDelivery[lastDelivery]}. Check the address with the patient, correct it in the record, then send again.`,
    );
  }
  if (!record.email) {
    add('no-email', 'There is no email address on the record, so no invitation or reset can be emailed. Add the address, or use Register Patient and hand over the temporary password.');
  }
  if (locked && throttle) {
    add('sign-in-locked', `The sign-in is locked after ${throttle.failures} failed tries since ${at(throttle.lastFailureAt)}. After checking who is calling, clear the lock.`);
  } else if (waitUntil && throttle) {
    add(
      'sign-in-waiting',
      `After ${throttle.failures} failed tries the sign-in must wait until ${at(waitUntil)}. The patient can try again then; after checking who is calling, you can clear the wait.`,
    );
  }
  if (tempExpired) {
    add('temporary-password-expired', `The temporary password expired at ${at(tempExpiry!)}. Use Register Patient to give a new one.`);
  } else if (mustChange) {
    add(
      'must-change-password',
      tempExpiry
        ? `The patient must sign in with the temporary password before ${at(tempExpiry)} and then choose a new password.`
        : 'The patient must choose a new password: they sign in with their current password and follow the steps.',
    );
  }

  // Where canSignIn holds, the only reasons above are must-change-password, email-bounced and
  // no-email (each other one needs access off, no login, a lock, a wait or an expired password).
  const canSignIn = record.accessEnabled && hasLogin && !locked && waitUntil === undefined && !tempExpired;
  if (canSignIn) {
    add(
      'can-sign-in',
      `Nothing on our side stops a sign-in as "${record.username ?? ''}". ${
        facts.settings.patientReset ? 'If the password is forgotten, the patient can reset it from the sign-in page, or you can send a reset.' : 'If the password is forgotten, send a credential reset.'
      }`,
    );
  }

  return {
    patientId: record.patientId,
    canSignIn,
    reasons,
    login: {
      exists: hasLogin,
      ...(record.username ? { username: record.username } : {}),
      mustChangePassword: mustChange,
      ...(mustChange && tempExpiry ? { temporaryPasswordExpiresAt: tempExpiry } : {}),
      ...(facts.lastSignInAt ? { lastSignInAt: facts.lastSignInAt } : {}),
      ...(facts.lastFailedSignInAt ? { lastFailedSignInAt: facts.lastFailedSignInAt } : {}),
      failures: throttle?.failures ?? 0,
      ...(waitUntil ? { waitUntil } : {}),
      locked,
    },
    invitation: {
      status: invite.status,
      ...(invite.sentAt ? { sentAt: invite.sentAt } : {}),
      ...(invite.expiresAt ? { expiresAt: invite.expiresAt } : {}),
      ...(record.invite.delivery ? { delivery: record.invite.delivery } : {}),
    },
    reset: {
      ...(facts.reset?.pendingUntil ? { pendingUntil: facts.reset.pendingUntil } : {}),
      ...(facts.reset?.delivery ? { delivery: facts.reset.delivery } : {}),
    },
    email: {
      ...(record.email ? { address: record.email } : {}),
      ...(lastDelivery ? { lastDelivery } : {}),
    },
  };
}

export interface DiagnosisDeps {
  store: RecordStore;
  throttle: ThrottleStore;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
}

/** How far back the audit trail is read for the last sign-ins (one page, newest first). */
const auditLookback = 50;

/** Reads the facts and diagnoses; 404 when the patient has no record. */
export async function readDiagnosis(deps: DiagnosisDeps, patientId: string): Promise<Diagnosis> {
  const now = deps.clock();
  const record = await deps.store.getRecord(patientId);
  if (!record) throw notFound('The portal record');
  const [{ settings }, throttle, audit] = await Promise.all([
    readSettings({ store: deps.store, defaults: deps.settingsDefaults }),
    record.accountId && record.username ? readAccountFailures(deps.throttle, record.username, now) : Promise.resolve(undefined),
    record.accountId ? deps.store.listAudit(patientTarget(patientId), undefined, auditLookback).then((p) => p.items) : Promise.resolve([] as AuditEvent[]),
  ]);
  const signIns = audit.filter((e) => e.action === 'patient.sign-in');
  const lastSignInAt = signIns.find((e) => e.outcome === 'success')?.at;
  const lastFailedSignInAt = signIns.find((e) => e.outcome === 'failure')?.at;
  return diagnose({
    record,
    settings,
    ...(throttle ? { throttle } : {}),
    ...(lastSignInAt ? { lastSignInAt } : {}),
    ...(lastFailedSignInAt ? { lastFailedSignInAt } : {}),
    now,
  });
}

/** The patient login's failure counter (consecutive failures older than a day are forgotten). */
async function readAccountFailures(store: ThrottleStore, username: string, now: Date): Promise<AccountFailures | undefined> {
  // No source address here: the address counter read beside it is one no request ever counts on.
  const { account } = await store.read(accountThrottleKey('patient', username), 'diagnosis');
  if (!account) return undefined;
  const forgotten = account.failures < throttlePolicy.lockAfterFailures && now.getTime() - account.lastFailureAt > throttlePolicy.forgetAfterSeconds * 1000;
  return forgotten ? undefined : account;
}
