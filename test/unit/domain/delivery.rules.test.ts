/**
 * Email delivery events (issue 15 item 3), the rules beside the flow test: only events carrying
 * our well-formed tag are read (a forged or malformed tag finds no record), each SES event type
 * maps to one status at the time it happened, an older or equal event never overwrites a newer
 * one (ties go to the one that got further), and an event counts for the invitation only when its
 * email was sent for that invitation (2 s allowance for the two clocks). Audited without the
 * address (rule 18/20), success only for Sent and Delivered.
 */
import { describe, expect, it } from 'vitest';
import {
  applyDelivery,
  decodePatientTag,
  deliveryEventMarked,
  encodePatientTag,
  messageTags,
  readSesEvent,
  recordDelivery,
  type DeliveryEvent,
} from '../../../lambdas/domain/delivery.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { SesEventRecord } from '../../../lambdas/schemas/delivery.ts';
import { memoryStore } from '../../support/memory-store.ts';

const T0 = '2026-11-21T10:00:00.000Z';
const plus = (ms: number, from = T0) => new Date(Date.parse(from) + ms).toISOString();

function ses(eventType: string, extra: Partial<SesEventRecord> = {}, tags: Record<string, string[]> | null = { 'portal-patient': [encodePatientTag('P-1')], 'portal-purpose': ['invitation'] }): SesEventRecord {
  return { eventType, mail: { timestamp: T0, messageId: 'm-1', ...(tags ? { tags } : {}) }, ...extra } as SesEventRecord;
}

describe('reading SES events: only ours, each type one status', () => {
  it('the tags SES takes: our two names, the patientId hex-encoded, the purpose as is', () => {
    expect(messageTags({ patientId: 'P-1', purpose: 'reset' })).toEqual([
      { Name: 'portal-patient', Value: '502d31' },
      { Name: 'portal-purpose', Value: 'reset' },
    ]);
  });

  it('a malformed or forged patient tag finds no record: odd length, upper-case or other characters, too long, not an id once decoded', () => {
    expect(decodePatientTag('502d31')).toBe('P-1');
    for (const bad of ['', '502d3', '502D31', 'zz502d31', '502d31zz', '502d31\n', ' 502d31', encodePatientTag('P 1'), encodePatientTag('P/1'), encodePatientTag('Z'.repeat(65))]) {
      expect(decodePatientTag(bad), JSON.stringify(bad)).toBeUndefined();
    }
    expect(decodePatientTag(encodePatientTag('Z'.repeat(64)))).toBe('Z'.repeat(64));
    expect(decodePatientTag(encodePatientTag('a'))).toBe('a');
    // 64 bytes at most before decoding: 65 hex pairs are refused even where they would decode to an id.
    expect(decodePatientTag('5a'.repeat(65))).toBeUndefined();
  });

  it('no tags at all, or no patient tag: not ours', () => {
    expect(readSesEvent(ses('Bounce', {}, null))).toBeUndefined();
    expect(readSesEvent(ses('Bounce', {}, { 'portal-purpose': ['invitation'] }))).toBeUndefined();
  });

  it('the purpose: invitation or reset as tagged; anything else, or none, is other', () => {
    const purpose = (value?: string) =>
      readSesEvent(ses('Send', {}, { 'portal-patient': ['502d31'], ...(value === undefined ? {} : { 'portal-purpose': [value] }) }))!.purpose;
    expect(purpose('invitation')).toBe('invitation');
    expect(purpose('reset')).toBe('reset');
    expect(purpose('marketing')).toBe('other');
    expect(purpose()).toBe('other');
  });

  it('each type at its own time: Send and Reject at the mail time, Delivery, Bounce and Complaint at theirs', () => {
    expect(readSesEvent(ses('Send'))).toEqual({ patientId: 'P-1', purpose: 'invitation', status: 'Sent', at: T0, mailAt: T0 });
    expect(readSesEvent(ses('Delivery', { delivery: { timestamp: plus(1000) } }))).toMatchObject({ status: 'Delivered', at: plus(1000), mailAt: T0 });
    expect(readSesEvent(ses('Bounce', { bounce: { bounceSubType: 'General', timestamp: plus(2000) } }))).toMatchObject({ status: 'Bounced', at: plus(2000) });
    expect(readSesEvent(ses('Bounce', { bounce: { timestamp: plus(2000) } }))).toMatchObject({ status: 'Bounced' });
    expect(readSesEvent(ses('Bounce', { bounce: { bounceSubType: 'Suppressed', timestamp: plus(2000) } }))).toMatchObject({ status: 'Suppressed' });
    expect(readSesEvent(ses('Bounce', { bounce: { bounceSubType: 'OnAccountSuppressionList', timestamp: plus(2000) } }))).toMatchObject({ status: 'Suppressed' });
    expect(readSesEvent(ses('Complaint', { complaint: { timestamp: plus(3000) } }))).toMatchObject({ status: 'Complained', at: plus(3000) });
    expect(readSesEvent(ses('Reject'))).toMatchObject({ status: 'Failed', at: T0 });
    expect(readSesEvent(ses('Rendering Failure'))).toMatchObject({ status: 'Failed', at: T0 });
    // A type-specific part missing: the mail's own time.
    expect(readSesEvent(ses('Delivery'))).toMatchObject({ status: 'Delivered', at: T0 });
    expect(readSesEvent(ses('Bounce'))).toMatchObject({ status: 'Bounced', at: T0 });
    expect(readSesEvent(ses('Complaint'))).toMatchObject({ status: 'Complained', at: T0 });
    for (const ignored of ['Open', 'Click', 'DeliveryDelay', 'Subscription']) expect(readSesEvent(ses(ignored))).toBeUndefined();
  });

  it('times are read as instants and written as UTC ISO', () => {
    const e = readSesEvent({ ...ses('Delivery', { delivery: { timestamp: '2026-11-21T11:00:01+01:00' } }), mail: { timestamp: '2026-11-21T11:00:00+01:00', messageId: 'm', tags: { 'portal-patient': ['502d31'] } } });
    expect(e).toMatchObject({ at: '2026-11-21T10:00:01.000Z', mailAt: '2026-11-21T10:00:00.000Z' });
  });
});

const record = (change: Partial<StoredRecord> = {}): StoredRecord => ({
  ...newRecord('P-1', new Date(T0)),
  version: 4,
  email: 'pat@example.test',
  invite: { status: 'Pending', sentAt: T0, expiresAt: plus(14 * 86_400_000) },
  ...change,
});
const ev = (status: DeliveryEvent['status'], at: string, more: Partial<DeliveryEvent> = {}): DeliveryEvent => ({ patientId: 'P-1', purpose: 'invitation', status, at, mailAt: T0, ...more });
const now = new Date(plus(60_000));

describe('applyDelivery: newer news only', () => {
  it('the first event shows on the record and on its invitation, with the version bumped and the time of the change', () => {
    const next = applyDelivery(record(), ev('Delivered', plus(1000)), now)!;
    expect(next.emailDelivery).toEqual({ status: 'Delivered', at: plus(1000), purpose: 'invitation' });
    expect(next.invite).toMatchObject({ status: 'Pending', sentAt: T0, delivery: 'Delivered', deliveryAt: plus(1000) });
    expect(next).toMatchObject({ version: 5, updatedAt: now.toISOString(), email: 'pat@example.test' });
  });

  it('a strictly later event replaces; the same or an earlier one changes nothing; at the same time the one that got further wins', () => {
    const shown = applyDelivery(record(), ev('Bounced', plus(5000)), now)!;
    expect(applyDelivery(shown, ev('Bounced', plus(5000)), now)).toBeUndefined();
    expect(applyDelivery(shown, ev('Delivered', plus(4999)), now)).toBeUndefined();
    expect(applyDelivery(shown, ev('Delivered', plus(5000)), now)).toBeUndefined();
    expect(applyDelivery(shown, ev('Suppressed', plus(5000)), now)).toBeUndefined();
    expect(applyDelivery(shown, ev('Complained', plus(5000)), now)?.invite.delivery).toBe('Complained');
    expect(applyDelivery(shown, ev('Sent', plus(5001)), now)?.emailDelivery?.status).toBe('Sent');
    const sent = applyDelivery(record(), ev('Sent', plus(5000)), now)!;
    expect(applyDelivery(sent, ev('Delivered', plus(5000)), now)?.invite.delivery).toBe('Delivered');
  });

  it('an invitation mark without a time (the sender\'s own "Sent") is older than any event', () => {
    const marked = record({ invite: { status: 'Pending', sentAt: T0, delivery: 'Sent' } as StoredRecord['invite'], emailDelivery: { status: 'Bounced', at: plus(9000), purpose: 'reset' } });
    const next = applyDelivery(marked, ev('Delivered', plus(1000)), now)!;
    expect(next.invite).toMatchObject({ delivery: 'Delivered', deliveryAt: plus(1000) });
    // The record's latest email stays the later reset bounce.
    expect(next.emailDelivery).toEqual({ status: 'Bounced', at: plus(9000), purpose: 'reset' });
  });

  it('an invitation mark with a time but no status is no mark: an event of that very time replaces it', () => {
    const odd = record({ invite: { status: 'Pending', sentAt: T0, deliveryAt: plus(1000) } as StoredRecord['invite'] });
    expect(applyDelivery(odd, ev('Sent', plus(1000)), now)?.invite).toMatchObject({ delivery: 'Sent', deliveryAt: plus(1000) });
  });

  it('an event counts for the invitation only when its email was sent for it: from 2 s before the invitation on', () => {
    const sentAt = plus(10_000);
    const invited = record({ invite: { status: 'Pending', sentAt } });
    expect(applyDelivery(invited, ev('Bounced', plus(20_000), { mailAt: plus(8000) }), now)?.invite.delivery).toBe('Bounced');
    const earlier = applyDelivery(invited, ev('Bounced', plus(20_000), { mailAt: plus(7999) }), now)!;
    expect(earlier.invite.delivery).toBeUndefined();
    expect(earlier.emailDelivery?.status).toBe('Bounced');
    // Not an invitation email, or no invitation sent: the history only.
    expect(applyDelivery(invited, ev('Bounced', plus(20_000), { purpose: 'reset', mailAt: plus(20_000) }), now)!.invite.delivery).toBeUndefined();
    expect(applyDelivery(invited, ev('Bounced', plus(20_000), { purpose: 'other', mailAt: plus(20_000) }), now)!.invite.delivery).toBeUndefined();
    const never = record({ invite: { status: 'None' } });
    expect(applyDelivery(never, ev('Bounced', plus(20_000)), now)!.invite).toEqual({ status: 'None' });
  });

  it('an older event still counts for the invitation when the invitation has not seen it (a resend after a newer reset email)', () => {
    const r = record({ emailDelivery: { status: 'Delivered', at: plus(50_000), purpose: 'reset' } });
    const next = applyDelivery(r, ev('Bounced', plus(20_000)), now)!;
    expect(next.invite.delivery).toBe('Bounced');
    expect(next.emailDelivery).toEqual({ status: 'Delivered', at: plus(50_000), purpose: 'reset' });
  });
});

describe('deliveryEventMarked: the sender\'s own mark never overwrites an SES event about the same invitation', () => {
  it('an event time on the invitation from 2 s before its send on counts; an earlier one or none does not', () => {
    const sentAt = plus(10_000);
    expect(deliveryEventMarked({ status: 'Pending', sentAt, delivery: 'Bounced', deliveryAt: plus(8000) } as StoredRecord['invite'], sentAt)).toBe(true);
    expect(deliveryEventMarked({ status: 'Pending', sentAt, delivery: 'Bounced', deliveryAt: plus(7999) } as StoredRecord['invite'], sentAt)).toBe(false);
    expect(deliveryEventMarked({ status: 'Pending', sentAt, delivery: 'Sent' } as StoredRecord['invite'], sentAt)).toBe(false);
  });
});

describe('recordDelivery: written once, audited without the address', () => {
  async function stored() {
    const mem = memoryStore();
    const r = record({ version: 1 });
    await mem.store.saveRecord(r, 0, { target: 'patient:P-1', at: T0, actor: 's', action: 'portal-record.created', outcome: 'success', sourceIp: '1', detail: {} });
    return { mem, deps: { store: mem.store, clock: () => now } };
  }

  it('each status audited as SES\'s, with the status, purpose and event time; success only for Sent and Delivered', async () => {
    const outcomes: Record<string, string> = { Sent: 'success', Delivered: 'success', Bounced: 'failure', Suppressed: 'failure', Complained: 'failure', Failed: 'failure' };
    let i = 0;
    const { mem, deps } = await stored();
    for (const [status, outcome] of Object.entries(outcomes)) {
      i += 1;
      expect(await recordDelivery(deps, ev(status as DeliveryEvent['status'], plus(i * 1000)))).toBe('recorded');
      expect(mem.audit.at(-1)).toEqual({
        target: 'patient:P-1',
        at: now.toISOString(),
        actor: 'ses',
        action: 'email.delivery',
        outcome,
        sourceIp: 'aws',
        detail: { status, purpose: 'invitation', eventAt: plus(i * 1000) },
      });
    }
    expect(JSON.stringify(mem.audit)).not.toContain('pat@example.test');
  });

  it('a write that lost a race is made again on the newer record (no event lost)', async () => {
    const { mem, deps } = await stored();
    let once = true;
    mem.onBeforeSave(() => {
      if (!once) return;
      once = false;
      const doc = mem.docs.get('patient:P-1')!;
      mem.docs.set('patient:P-1', { value: { ...(doc.value as StoredRecord), version: doc.version + 1, comment: 'edited meanwhile' }, version: doc.version + 1 });
    });
    expect(await recordDelivery(deps, ev('Bounced', plus(5000)))).toBe('recorded');
    const saved = mem.docs.get('patient:P-1')!.value as StoredRecord;
    expect(saved).toMatchObject({ comment: 'edited meanwhile', emailDelivery: { status: 'Bounced' } });
  });
});
