/**
 * Email delivery events (issue 15 item 3): what became of an email we sent, from SES's events,
 * on the record it was about. The mailer tags every message about a record with its patientId
 * (hex-encoded: SES tag values allow only letters, digits, `_` and `-`) and the email's purpose;
 * SES echoes message tags in every event, so an event finds its record without an address.
 *
 * Events arrive at least once and in any order. Each carries the time it happened; the record
 * keeps the time of the event it shows, and a write is made only for a strictly later event
 * (ties broken by how far the email got), conditional on the version read. So the same event
 * twice is a no-op and an older one never overwrites a newer one.
 */
import type { SesEventRecord } from '../schemas/delivery.ts';
import type { EmailDelivery } from '../schemas/portal-record.ts';
import type * as z from 'zod/mini';
import { auditEvent, patientTarget } from './audit.ts';
import { retryOnConflict } from './errors.ts';
import type { StoredRecord } from './portal-record.ts';
import type { Clock, RecordStore } from './ports.ts';

export type DeliveryStatus = z.infer<typeof EmailDelivery>;
export type MailPurpose = 'invitation' | 'reset' | 'other';

/** Our message tags: the record (hex of its patientId) and what the email was for. */
export const PATIENT_TAG = 'portal-patient';
export const PURPOSE_TAG = 'portal-purpose';

export interface MailTags {
  patientId: string;
  purpose: MailPurpose;
}

export const encodePatientTag = (patientId: string): string => Buffer.from(patientId, 'utf8').toString('hex');

export function decodePatientTag(value: string): string | undefined {
  if (!/^(?:[0-9a-f]{2}){1,64}$/.test(value)) return undefined;
  const id = Buffer.from(value, 'hex').toString('utf8');
  return /^[A-Za-z0-9._-]{1,64}$/.test(id) ? id : undefined;
}

/** The tags as SES takes them (Name/Value pairs). */
export const messageTags = (tags: MailTags): { Name: string; Value: string }[] => [
  { Name: PATIENT_TAG, Value: encodePatientTag(tags.patientId) },
  { Name: PURPOSE_TAG, Value: tags.purpose },
];

export interface DeliveryEvent {
  patientId: string;
  purpose: MailPurpose;
  status: DeliveryStatus;
  /** When this event happened (ISO). */
  at: string;
  /** When SES accepted the email (ISO). */
  mailAt: string;
}

const iso = (v: string): string => new Date(Date.parse(v)).toISOString();

/**
 * The event, if it is one of ours and one we track: Send, Delivery, Bounce (a send to a
 * suppressed address is a Bounce with an OnAccountSuppressionList / Suppressed sub-type),
 * Complaint, Reject and Rendering Failure. Opens, clicks and delays change nothing.
 */
export function readSesEvent(record: SesEventRecord): DeliveryEvent | undefined {
  const patientId = decodePatientTag(record.mail.tags?.[PATIENT_TAG]?.[0] ?? '');
  if (!patientId) return undefined;
  const purposeTag = record.mail.tags?.[PURPOSE_TAG]?.[0];
  const purpose: MailPurpose = purposeTag === 'invitation' || purposeTag === 'reset' ? purposeTag : 'other';
  const mailAt = iso(record.mail.timestamp);
  const of = (status: DeliveryStatus, at: string = mailAt): DeliveryEvent => ({ patientId, purpose, status, at: iso(at), mailAt });
  switch (record.eventType) {
    case 'Send':
      return of('Sent');
    case 'Delivery':
      return of('Delivered', record.delivery?.timestamp);
    case 'Bounce': {
      const sub = record.bounce?.bounceSubType ?? '';
      const suppressed = sub === 'OnAccountSuppressionList' || sub === 'Suppressed';
      return of(suppressed ? 'Suppressed' : 'Bounced', record.bounce?.timestamp);
    }
    case 'Complaint':
      return of('Complained', record.complaint?.timestamp);
    case 'Reject':
    case 'Rendering Failure':
      return of('Failed');
    default:
      return undefined;
  }
}

/** How far an email got: breaks a tie between two events of the same millisecond. */
const progress: Record<DeliveryStatus, number> = { Sent: 0, Delivered: 1, Failed: 2, Bounced: 2, Suppressed: 2, Complained: 3 };

/** Whether an event (at, status) comes strictly after the one shown (at, status). */
function isLater(at: string, status: DeliveryStatus, shownAt: string | undefined, shown: DeliveryStatus | undefined): boolean {
  if (!shownAt || !shown) return true;
  const [a, b] = [Date.parse(at), Date.parse(shownAt)];
  return a !== b ? a > b : progress[status] > progress[shown];
}

/**
 * An invitation email's event counts for the invitation on the record only if that email was
 * sent for it: SES accepted it no earlier than the invitation was sent (a small allowance for
 * the two clocks), so a late event about an earlier invitation leaves a new one alone.
 */
const CLOCK_ALLOWANCE_MS = 2_000;

/**
 * Whether an SES event about the invitation sent at `sentAt` is already on the record: then the
 * sender's own "Sent" mark, which can arrive later than the event, must not overwrite it.
 */
export const deliveryEventMarked = (invite: StoredRecord['invite'], sentAt: string): boolean =>
  invite.deliveryAt !== undefined && Date.parse(invite.deliveryAt) >= Date.parse(sentAt) - CLOCK_ALLOWANCE_MS;

/** The record with this event on it, or undefined when it changes nothing. Pure. */
export function applyDelivery(record: StoredRecord, event: DeliveryEvent, now: Date): StoredRecord | undefined {
  const shown = record.emailDelivery;
  const latest = isLater(event.at, event.status, shown?.at, shown?.status);
  const invite = record.invite;
  const forInvitation =
    event.purpose === 'invitation' &&
    invite.sentAt !== undefined &&
    Date.parse(event.mailAt) >= Date.parse(invite.sentAt) - CLOCK_ALLOWANCE_MS &&
    // A mark without a time is the sender's own "SES took it": any event is newer news.
    (invite.deliveryAt === undefined || isLater(event.at, event.status, invite.deliveryAt, invite.delivery));
  if (!latest && !forInvitation) return undefined;
  return {
    ...record,
    ...(latest ? { emailDelivery: { status: event.status, at: event.at, purpose: event.purpose } } : {}),
    ...(forInvitation ? { invite: { ...invite, delivery: event.status, deliveryAt: event.at } } : {}),
    updatedAt: now.toISOString(),
    version: record.version + 1,
  };
}

export interface DeliveryDeps {
  store: RecordStore;
  clock: Clock;
}

export type DeliveryOutcome = 'recorded' | 'unchanged' | 'no-record';

/** Records one event on its record; safe to call again with the same or an older event. */
export async function recordDelivery(deps: DeliveryDeps, event: DeliveryEvent): Promise<DeliveryOutcome> {
  return retryOnConflict(async () => {
    const record = await deps.store.getRecord(event.patientId);
    if (!record) return 'no-record';
    const now = deps.clock();
    const next = applyDelivery(record, event, now);
    if (!next) return 'unchanged';
    const audit = auditEvent(
      { id: 'ses', sourceIp: 'aws' },
      patientTarget(event.patientId),
      'email.delivery',
      now,
      { status: event.status, purpose: event.purpose, eventAt: event.at },
      event.status === 'Sent' || event.status === 'Delivered' ? 'success' : 'failure',
    );
    await deps.store.saveRecord(next, record.version, audit);
    return 'recorded';
  });
}
