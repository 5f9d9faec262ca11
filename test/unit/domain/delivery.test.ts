import { describe, expect, it } from 'vitest';
import { decodePatientTag, encodePatientTag, messageTags, readSesEvent, recordDelivery, type DeliveryEvent } from '../../../lambdas/domain/delivery.ts';
import { sendInvitation, resendInvitation } from '../../../lambdas/domain/invitations.ts';
import { SesEventRecord } from '../../../lambdas/schemas/delivery.ts';
import { harness, staff } from './invitation-harness.ts';

const tagsOf = (patientId: string, purpose = 'invitation') =>
  Object.fromEntries(messageTags({ patientId, purpose: purpose as 'invitation' }).map((t) => [t.Name, [t.Value]]));

/** An SES event record as the configuration set publishes it (EventBridge detail / SNS message). */
function sesEvent(eventType: string, at: string, opts: { patientId?: string; mailAt?: string; subType?: string; purpose?: string } = {}) {
  const mailAt = opts.mailAt ?? at;
  const record = {
    eventType,
    mail: {
      timestamp: mailAt,
      messageId: 'm-1',
      destination: ['someone@example.test'],
      tags: { 'ses:configuration-set': ['portal'], ...(opts.patientId === undefined ? tagsOf('P-1', opts.purpose) : opts.patientId ? tagsOf(opts.patientId, opts.purpose) : {}) },
    },
    ...(eventType === 'Bounce' ? { bounce: { bounceType: 'Permanent', bounceSubType: opts.subType ?? 'General', timestamp: at, bouncedRecipients: [] } } : {}),
    ...(eventType === 'Delivery' ? { delivery: { timestamp: at, recipients: [] } } : {}),
    ...(eventType === 'Complaint' ? { complaint: { timestamp: at } } : {}),
    ...(eventType === 'Send' ? { send: {} } : {}),
  };
  return SesEventRecord.parse(record);
}

const read = (...args: Parameters<typeof sesEvent>): DeliveryEvent => {
  const e = readSesEvent(sesEvent(...args));
  if (!e) throw new Error('not read');
  return e;
};

/** P-1 invited at 10:00:00 (the harness clock); the email went out through the fake mailer. */
async function invited() {
  const h = harness();
  await h.seed('P-1');
  await sendInvitation(h.deps, staff, 'P-1');
  const deps = { store: h.mem.store, clock: h.deps.clock };
  return { h, deps };
}

describe('delivery events: reading SES events', () => {
  it('maps Send, Delivery, Bounce, Complaint and Reject, and a bounce off the suppression list is Suppressed', () => {
    const at = '2026-11-21T10:00:01.000Z';
    expect(read('Send', at).status).toBe('Sent');
    expect(read('Delivery', at).status).toBe('Delivered');
    expect(read('Bounce', at).status).toBe('Bounced');
    expect(read('Bounce', at, { subType: 'OnAccountSuppressionList' }).status).toBe('Suppressed');
    expect(read('Complaint', at).status).toBe('Complained');
    expect(read('Reject', at).status).toBe('Failed');
    expect(read('Bounce', at)).toMatchObject({ patientId: 'P-1', purpose: 'invitation', at });
  });

  it('ignores events without our tag, with a forged tag, and the ones we do not track (Open, Click)', () => {
    const at = '2026-11-21T10:00:01.000Z';
    expect(readSesEvent(sesEvent('Bounce', at, { patientId: '' }))).toBeUndefined();
    const forged = sesEvent('Bounce', at);
    forged.mail.tags!['portal-patient'] = [Buffer.from('../etc', 'utf8').toString('hex')];
    expect(readSesEvent(forged)).toBeUndefined();
    expect(readSesEvent(sesEvent('Open', at))).toBeUndefined();
    expect(readSesEvent(sesEvent('Click', at))).toBeUndefined();
  });

  it('the patient tag holds any patientId SES tag values cannot ("." and "_"), and no address', () => {
    for (const id of ['P-1', 'a.b_c-9', 'Z'.repeat(64)]) {
      const value = encodePatientTag(id);
      expect(value).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
      expect(decodePatientTag(value)).toBe(id);
    }
    expect(JSON.stringify(messageTags({ patientId: 'P-1', purpose: 'invitation' }))).not.toContain('@');
  });
});

describe('delivery events: on the record', () => {
  it('a bounce shows as invite.delivery and as the latest email delivery, audited without the address', async () => {
    const { h, deps } = await invited();
    expect(await recordDelivery(deps, read('Bounce', '2026-11-21T10:00:05.000Z'))).toBe('recorded');
    const record = h.record('P-1')!;
    expect(record.invite).toMatchObject({ status: 'Pending', delivery: 'Bounced', deliveryAt: '2026-11-21T10:00:05.000Z' });
    expect(record.emailDelivery).toEqual({ status: 'Bounced', at: '2026-11-21T10:00:05.000Z', purpose: 'invitation' });
    const audit = h.mem.audit.filter((a) => a.action === 'email.delivery');
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('@');
  });

  it('the same event twice is a no-op: one write, one audit entry, the version bumped once', async () => {
    const { h, deps } = await invited();
    const event = read('Delivery', '2026-11-21T10:00:03.000Z');
    await recordDelivery(deps, event);
    const version = h.record('P-1')!.version;
    expect(await recordDelivery(deps, event)).toBe('unchanged');
    expect(h.record('P-1')!.version).toBe(version);
    expect(h.mem.audit.filter((a) => a.action === 'email.delivery')).toHaveLength(1);
  });

  it('out of order: a Send or Delivery that arrives after the Bounce does not overwrite it', async () => {
    const { h, deps } = await invited();
    await recordDelivery(deps, read('Bounce', '2026-11-21T10:00:05.000Z'));
    expect(await recordDelivery(deps, read('Delivery', '2026-11-21T10:00:04.000Z'))).toBe('unchanged');
    expect(await recordDelivery(deps, read('Send', '2026-11-21T10:00:01.000Z'))).toBe('unchanged');
    expect(h.record('P-1')!.invite.delivery).toBe('Bounced');
    expect(h.record('P-1')!.emailDelivery?.status).toBe('Bounced');
  });

  it('in order, each newer event replaces the one before (Send, Delivery, Complaint)', async () => {
    const { h, deps } = await invited();
    await recordDelivery(deps, read('Send', '2026-11-21T10:00:01.000Z'));
    expect(h.record('P-1')!.invite.delivery).toBe('Sent');
    await recordDelivery(deps, read('Delivery', '2026-11-21T10:00:02.000Z'));
    expect(h.record('P-1')!.invite.delivery).toBe('Delivered');
    await recordDelivery(deps, read('Complaint', '2026-11-21T10:05:00.000Z'));
    expect(h.record('P-1')!.invite.delivery).toBe('Complained');
  });

  it('two events of the same millisecond: the one that got further wins, whichever comes first', async () => {
    const at = '2026-11-21T10:00:02.000Z';
    for (const order of [['Send', 'Bounce'], ['Bounce', 'Send']] as const) {
      const { h, deps } = await invited();
      for (const type of order) await recordDelivery(deps, read(type, at));
      expect(h.record('P-1')!.invite.delivery).toBe('Bounced');
    }
  });

  it('a late bounce of an earlier invitation leaves a newer invitation alone, but counts as the email history', async () => {
    const { h, deps } = await invited();
    h.advance(60_000);
    await resendInvitation(h.deps, staff, 'P-1');
    const resentAt = h.record('P-1')!.invite.sentAt!;
    await recordDelivery(deps, read('Delivery', '2026-11-21T10:01:01.000Z'));
    // The first email's bounce, reported late: it was accepted at 10:00:00, before the resend.
    await recordDelivery(deps, read('Bounce', '2026-11-21T10:01:30.000Z', { mailAt: '2026-11-21T10:00:00.100Z' }));
    const record = h.record('P-1')!;
    expect(record.invite.sentAt).toBe(resentAt);
    expect(record.invite.delivery).toBe('Delivered');
    expect(record.emailDelivery?.status).toBe('Bounced');
  });

  it('a reset email event is the latest email delivery but not the invitation\'s', async () => {
    const { h, deps } = await invited();
    await recordDelivery(deps, read('Bounce', '2026-11-21T10:03:00.000Z', { purpose: 'reset' }));
    expect(h.record('P-1')!.emailDelivery).toMatchObject({ status: 'Bounced', purpose: 'reset' });
    expect(h.record('P-1')!.invite.delivery).toBe('Sent');
  });

  it('an event about a record that does not exist changes nothing', async () => {
    const { h, deps } = await invited();
    expect(await recordDelivery(deps, read('Bounce', '2026-11-21T10:00:05.000Z', { patientId: 'P-404' }))).toBe('no-record');
    expect(h.record('P-404')).toBeUndefined();
  });
});

describe('the sender\'s own "Sent" mark and an event that came first', () => {
  it('a bounce that reached the record before the sender marked "Sent" is kept (the mark never overwrites newer news)', async () => {
    const h = harness();
    await h.seed('P-B');
    // The event lands while the mail is being handed over, before sendInvitation writes its mark.
    const send = h.deps.mailer.send.bind(h.deps.mailer);
    h.deps.mailer = {
      async send(email) {
        await send(email);
        const sentAt = h.record('P-B')!.invite.sentAt!;
        const event: DeliveryEvent = { patientId: 'P-B', purpose: 'invitation', status: 'Bounced', at: new Date(Date.parse(sentAt) + 500).toISOString(), mailAt: sentAt };
        await recordDelivery({ store: h.mem.store, clock: () => new Date(Date.parse(sentAt) + 600) }, event);
      },
    };
    await sendInvitation(h.deps, staff, 'P-B');
    expect(h.record('P-B')!.invite.delivery).toBe('Bounced');
  });
});
