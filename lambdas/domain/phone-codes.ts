/**
 * Phone codes (issue 17, security rule 33): a 6-digit code texted to the phone on file, typed
 * in place of the in-person PIN. It is one more secret of the invitation's one-time link
 * (invitations.ts `invitationPolicy`, one-time-link.ts `secrets`), so it shares everything the
 * link already does: the lookup's 410, the 5 wrong tries of the PIN (one counter; the 5th wrong
 * PIN or code locks the link), the lease and the one commit.
 *
 * What is stored (`state.secrets.phoneCode`) is `v1.<expiresAtMs>.<mac>` where mac is a KEYED
 * hash (HMAC-SHA256 under the phone-code key: KMS GenerateMac in AWS, a key derived from the
 * local PIN key file locally) over the code AND what it is bound to:
 *   - the link's token hash: a resend gives the link a new token, so an earlier code no longer
 *     matches (and cancel, registration and locking drop or refuse the secrets anyway);
 *   - the record's phone as it was when the code was texted: a PHONE change makes the stored
 *     code unmatchable at once, without bumping the record's link generation (which would kill
 *     the whole invitation and its PIN, too much for a new phone number); an EMAIL change bumps
 *     the generation (portal-record.ts) and so kills the link with its code;
 *   - the expiry (10 minutes), so an edited expiry does not match either.
 * The code itself is never stored, logged or answered.
 *
 * Texts are limited per invitation: at most 3 within any hour. The send times live on the link
 * state (`phoneSends`), and a text is claimed by a conditional write that succeeds only while
 * the list is still exactly what was read (PhoneCodeStore.claimText), so 20 requests at once
 * produce at most 3 texts. The text goes out after the claim: a failed send uses up one of the
 * three, never more than three go out.
 *
 * POST /invitations/phone-code answers the same 202 whatever happened (no phone, setting off,
 * dead link, limit reached, SMS refused): the handler runs this under the equal-time floor.
 */
import { createHmac, randomInt } from 'node:crypto';
import type { Settings } from '../schemas/settings.ts';
import { auditEvent, patientTarget, type AuditEvent } from './audit.ts';
import { DomainError } from './errors.ts';
import { invitationLinks } from './invitations.ts';
import { lookUp, type LinkSecret, type LinkState, type LinkStore } from './one-time-link.ts';
import type { StoredRecord } from './portal-record.ts';
import type { Clock, RecordStore } from './ports.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import type { ThrottleStore } from './sign-in-throttle.ts';
import { digestsEqual } from './secrets.ts';

export const PHONE_CODE_LENGTH = 6;
export const PHONE_CODE_MINUTES = 10;
export const MAX_TEXTS_PER_HOUR = 3;
const HOUR_MS = 60 * 60 * 1000;
/** The equal-time floor of POST /invitations/phone-code (rule 13): above the texting path's usual time. */
export const PHONE_CODE_FLOOR_MS = 400;

/** E.164: "+", a country code that does not start with 0, at most 15 digits in all. */
export const isE164 = (phone: string | undefined): phone is string => phone !== undefined && /^\+[1-9]\d{6,14}$/.test(phone);

/** 6 digits from the CSPRNG, leading zeros kept. */
export const newPhoneCode = (): string => String(randomInt(0, 10 ** PHONE_CODE_LENGTH)).padStart(PHONE_CODE_LENGTH, '0');

/** A code as typed: spaces and dashes ignored. */
export const normalisePhoneCode = (code: string): string => code.replace(/[\s-]+/g, '');

// ------------------------------------------------------------------------------ ports

/** The keyed hash of phone codes: KMS GenerateMac (HMAC_SHA_256) in AWS, HMAC with a local key file locally. */
export interface PhoneCodeKey {
  mac(message: string): Promise<string>;
}

/** Texts one message. The number is E.164; the body holds the practice name and the code only. */
export interface SmsSender {
  send(message: { to: string; body: string }): Promise<void>;
}

/** Where SMS stands in this deployment: phone codes can be turned on only when `configured`. */
export interface SmsAvailability {
  configured: boolean;
  /** Why not, in words an admin can act on (when not configured). */
  reason?: string;
}

/** The invitation's link state as the phone-code flow sees it: the send times of the last hour or so. */
export type PhoneCodeState = LinkState & { phoneSends?: string[] };

export interface PhoneCodeStore {
  /**
   * Stores `stored` as the state's phoneCode secret and `sends` as its send times, in one
   * conditional write with the audit entry: only while the state is still that pending link
   * behind that token and its send times are still exactly `read`. False when the condition
   * failed (another request claimed first, or the link changed).
   */
  claimText(change: { patientId: string; linkId: string; tokenHash: string; read: string[] | undefined; sends: string[]; stored: string; audit: AuditEvent }): Promise<boolean>;
}

// ------------------------------------------------------------------------------ the secret

interface Binding {
  patientId: string;
  linkId: string;
  tokenHash: string;
  phone: string;
  expiresAtMs: number;
}

const macInput = (b: Binding, code: string) => ['phone-code', 'v1', b.patientId, b.linkId, b.tokenHash, b.phone, String(b.expiresAtMs), code].join('|');

/** The stored form of a code: never the code, only its keyed hash with what it is bound to. */
export async function storedPhoneCode(key: PhoneCodeKey, binding: Binding, code: string): Promise<string> {
  return `v1.${binding.expiresAtMs}.${await key.mac(macInput(binding, normalisePhoneCode(code)))}`;
}

/**
 * The phone code as a secret of the invitation policy: right only while unexpired, for this
 * link's current token, for the record's phone as it is now. Compared in constant time; a
 * missing or malformed stored value is simply wrong (never a throw: it counts as a wrong try).
 */
export function phoneCodeSecret(key: PhoneCodeKey, clock: Clock): LinkSecret {
  return {
    name: 'phoneCode',
    async matches(typed, stored, state, record) {
      const [version, expires, mac, ...more] = (stored ?? '').split('.');
      const expiresAtMs = Number(expires);
      const typedCode = normalisePhoneCode(typed);
      // The MAC is computed even when the answer is already no, so a wrong code and an absent one cost the same.
      const phone = isE164(record.phone) ? record.phone : '';
      const expected = await key.mac(macInput({ patientId: state.patientId, linkId: state.linkId, tokenHash: state.tokenHash ?? '', phone, expiresAtMs }, typedCode));
      const same = digestsEqual(expected, mac ?? '');
      return (
        same &&
        version === 'v1' &&
        more.length === 0 &&
        Number.isSafeInteger(expiresAtMs) &&
        expiresAtMs > clock().getTime() &&
        phone !== '' &&
        /^\d{6}$/.test(typedCode) &&
        state.tokenHash !== undefined
      );
    },
  };
}

// ------------------------------------------------------------------------------ who may use it

export type PhoneCodeRefusal = 'setting-off' | 'sms-not-configured' | 'no-valid-phone';

/** Why this record cannot use a phone code now, or undefined when it can. */
export function phoneCodeRefusal(settings: Pick<Settings, 'phoneCodes'>, record: Pick<StoredRecord, 'phone'>, sms: SmsAvailability): PhoneCodeRefusal | undefined {
  if (!sms.configured) return 'sms-not-configured';
  if (!settings.phoneCodes) return 'setting-off';
  if (!isE164(record.phone)) return 'no-valid-phone';
  return undefined;
}

/** The lookup's `needs`: the phone code offered only where it can be used. */
export const invitationNeeds = (settings: Pick<Settings, 'phoneCodes'>, record: Pick<StoredRecord, 'phone'>, sms: SmsAvailability): ['pin'] | ['pin', 'phoneCode'] =>
  phoneCodeRefusal(settings, record, sms) === undefined ? ['pin', 'phoneCode'] : ['pin'];

/** The text: the practice name and the code, nothing else (no link, no patient name). */
export const phoneCodeText = (practiceName: string, code: string): string =>
  `${practiceName}: your portal code is ${code}. It works for ${PHONE_CODE_MINUTES} minutes. Do not share it.`;

/** Send times still inside the hour before `now`, oldest first. */
export const sendsInLastHour = (sends: readonly string[] | undefined, now: Date): string[] =>
  (sends ?? []).filter((at) => Date.parse(at) > now.getTime() - HOUR_MS).sort();

// ------------------------------------------------------------------------------ the request

/** Why no text went out (for tests and a log line: a name, never a number or a code). */
export type PhoneCodeOutcome = 'sent' | 'link-dead' | PhoneCodeRefusal | 'limit' | 'busy' | 'send-failed';

export interface PhoneCodeDeps {
  codes: PhoneCodeStore;
  key: PhoneCodeKey;
  sms: SmsSender;
  availability: SmsAvailability;
  clock: Clock;
}

/**
 * Texts a fresh code for the live link `live` (already looked up by the caller under the
 * invitation policy), where the setting, the deployment and the record allow it and fewer than
 * 3 texts went out in the last hour. The newest code replaces any earlier one.
 */
export async function textPhoneCode(
  deps: PhoneCodeDeps,
  live: { tokenHash: string; state: PhoneCodeState; record: StoredRecord },
  settings: Pick<Settings, 'phoneCodes' | 'practiceName'>,
  sourceIp: string,
): Promise<PhoneCodeOutcome> {
  const { state, record, tokenHash } = live;
  const refusal = phoneCodeRefusal(settings, record, deps.availability);
  if (refusal) return refusal;
  const now = deps.clock();
  const recent = sendsInLastHour(state.phoneSends, now);
  if (recent.length >= MAX_TEXTS_PER_HOUR) return 'limit';
  const code = newPhoneCode();
  const expiresAtMs = now.getTime() + PHONE_CODE_MINUTES * 60 * 1000;
  const stored = await storedPhoneCode(deps.key, { patientId: state.patientId, linkId: state.linkId, tokenHash, phone: record.phone!, expiresAtMs }, code);
  const claimed = await deps.codes.claimText({
    patientId: state.patientId,
    linkId: state.linkId,
    tokenHash,
    read: state.phoneSends,
    sends: [...recent, now.toISOString()],
    stored,
    audit: auditEvent({ id: 'anonymous', sourceIp }, patientTarget(state.patientId), 'invitation.phone-code-sent', now, { textsThisHour: recent.length + 1 }),
  });
  // Another request claimed at the same moment: its text is on the way; this one sends nothing.
  if (!claimed) return 'busy';
  try {
    await deps.sms.send({ to: record.phone!, body: phoneCodeText(settings.practiceName, code) });
  } catch {
    return 'send-failed';
  }
  return 'sent';
}

/** What POST /invitations/phone-code needs besides texting: the link look-up and the settings. */
export interface PhoneCodeRequestDeps extends PhoneCodeDeps {
  store: RecordStore;
  invitations: LinkStore;
  throttle: ThrottleStore;
  settingsDefaults: SettingsDefaults;
}

/**
 * POST /invitations/phone-code: the link looked up under the invitation policy (a dead one is
 * simply 'link-dead': the answer is the same 202), then `textPhoneCode`. Only an address past
 * its budget of dead links (429) or a backend failure is an error.
 */
export async function requestPhoneCode(deps: PhoneCodeRequestDeps, token: string, sourceIp: string): Promise<PhoneCodeOutcome> {
  let live;
  try {
    live = await lookUp({ store: deps.store, links: deps.invitations, throttle: deps.throttle, clock: deps.clock }, invitationLinks, token, sourceIp);
  } catch (err) {
    if (err instanceof DomainError && err.code === invitationLinks.errors.gone().code) return 'link-dead';
    throw err;
  }
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  return textPhoneCode(deps, live as typeof live & { state: PhoneCodeState }, settings, sourceIp);
}

/** The one answer of POST /invitations/phone-code, whatever happened. */
export const phoneCodeRequestedMessage =
  'If this invitation can use a texted code, a code is on its way to the phone number the practice has on file. It works for 10 minutes.';

// ------------------------------------------------------------------------------ settings

/** The reason shown when the deployment has no SMS. */
export const SMS_NOT_CONFIGURED =
  'this deployment has no SMS origination identity: deploy with -c smsOriginationIdentity=<phone number or its ARN> -c smsMonthlySpendLimit=<USD>';
