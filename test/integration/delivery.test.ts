/**
 * Delivery events on the local stack (issue 15 item 3): the mailbox plays SES's simulator
 * addresses (lib/local/mailbox.ts) and hands the events to the same delivery handler EventBridge
 * invokes in AWS; the record shows the outcome as `invite.delivery` and `emailDelivery`.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox } from './support/stack.ts';
import { staffSession } from './support/staff-session.ts';

let staff: string;

beforeAll(async () => {
  staff = (await staffSession('staff')).accessToken;
});

async function invitedAt(email: string) {
  const patientId = `DLV-${randomUUID().slice(0, 8)}`;
  expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-7'] } })).status).toBe(200);
  expect((await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff })).status).toBe(201);
  return patientId;
}

/** The record, once `invite.delivery` reads `want` (events arrive after the send, as in AWS). */
async function recordWhen(patientId: string, want: string) {
  let record: any;
  for (let i = 0; i < 50; i++) {
    record = (await api(`/patients/${patientId}/portal`, { token: staff })).json;
    if (record.invite?.delivery === want) return record;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`invite.delivery stayed ${record?.invite?.delivery}, expected ${want}`);
}

describe('delivery events from the simulator addresses', () => {
  it('an invitation to bounce@simulator.amazonses.com shows Bounced on the record (invite.delivery and the latest email delivery)', async () => {
    const patientId = await invitedAt('bounce@simulator.amazonses.com');
    const record = await recordWhen(patientId, 'Bounced');
    expect(record.invite.status).toBe('Pending');
    expect(record.emailDelivery).toMatchObject({ status: 'Bounced', purpose: 'invitation' });
    expect(Date.parse(record.invite.deliveryAt)).toBeGreaterThanOrEqual(Date.parse(record.invite.sentAt));
    // The email itself reached the mailbox (as SES accepts it before the bounce).
    expect((await mailbox('bounce@simulator.amazonses.com')).length).toBeGreaterThan(0);
  });

  it('the bounce is in the diagnosis (email-bounced, email.lastDelivery) until the address is changed', async () => {
    const patientId = await invitedAt('bounce@simulator.amazonses.com');
    await recordWhen(patientId, 'Bounced');
    const diagnosis = (await api(`/patients/${patientId}/portal/diagnosis`, { token: staff })).json;
    expect(diagnosis.email.lastDelivery).toBe('Bounced');
    expect(diagnosis.reasons.map((r: { code: string }) => r.code)).toContain('email-bounced');
    // What SES said about the old address says nothing about the new one.
    expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email: `${patientId.toLowerCase()}@example.test` } })).status).toBe(200);
    const after = (await api(`/patients/${patientId}/portal/diagnosis`, { token: staff })).json;
    expect(after.reasons.map((r: { code: string }) => r.code)).not.toContain('email-bounced');
    expect(after.email.lastDelivery).toBeUndefined();
  });

  it('complaint@ ends Complained, suppressionlist@ Suppressed, success@ Delivered (labels allowed)', async () => {
    const [complaint, suppressed, success] = await Promise.all([
      invitedAt(`complaint+${randomUUID().slice(0, 6)}@simulator.amazonses.com`),
      invitedAt(`suppressionlist+${randomUUID().slice(0, 6)}@simulator.amazonses.com`),
      invitedAt(`success+${randomUUID().slice(0, 6)}@simulator.amazonses.com`),
    ]);
    await recordWhen(complaint, 'Complained');
    await recordWhen(suppressed, 'Suppressed');
    await recordWhen(success, 'Delivered');
  });

  it('a resend after a bounce starts again: the new email is Sent, then its own events count', async () => {
    const patientId = await invitedAt('bounce@simulator.amazonses.com');
    await recordWhen(patientId, 'Bounced');
    const resent = await api(`/patients/${patientId}/portal/invitation/resend`, { method: 'POST', token: staff });
    expect(resent.status).toBe(200);
    // The resend's own bounce arrives later; the record never goes back to an older state.
    const record = await recordWhen(patientId, 'Bounced');
    expect(Date.parse(record.invite.deliveryAt)).toBeGreaterThanOrEqual(Date.parse(record.invite.sentAt));
  });

  it('any other address gets no simulated event: the record keeps the sender\'s own mark (Sent)', async () => {
    const patientId = await invitedAt(`dlv-${randomUUID().slice(0, 8)}@example.test`);
    await new Promise((r) => setTimeout(r, 800));
    const record = (await api(`/patients/${patientId}/portal`, { token: staff })).json;
    expect(record.invite.delivery).toBe('Sent');
    expect(record.emailDelivery).toBeUndefined();
  });
});
