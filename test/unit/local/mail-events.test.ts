import { describe, expect, it } from 'vitest';
import { readSesEvent } from '../../../lambdas/domain/delivery.ts';
import { SesEventBridgeEvent } from '../../../lambdas/schemas/delivery.ts';
import { readSendRequest, simulatedEvents, simulatedOutcomes } from '../../../lib/local/mailbox.ts';

const tags = { 'portal-patient': [Buffer.from('P-1').toString('hex')], 'portal-purpose': ['invitation'] };

describe('the local mailbox plays SES simulator addresses (api.md "Delivery")', () => {
  it('knows each simulator address (with a +label) and nothing else unless asked', () => {
    expect(simulatedOutcomes('bounce@simulator.amazonses.com')).toEqual(['Bounce']);
    expect(simulatedOutcomes('complaint+x1@simulator.amazonses.com')).toEqual(['Delivery', 'Complaint']);
    expect(simulatedOutcomes('suppressionlist@simulator.amazonses.com')).toEqual(['Suppressed']);
    expect(simulatedOutcomes('success@simulator.amazonses.com')).toEqual(['Delivery']);
    expect(simulatedOutcomes('pat@example.test')).toBeUndefined();
    expect(simulatedOutcomes('bounce@simulator.amazonses.com.evil.test')).toBeUndefined();
    expect(simulatedOutcomes('pat@example.test', true)).toEqual(['Delivery']);
  });

  it('reads the recipients and message tags of a v1 SendEmail (query protocol) and a v2 one (JSON)', () => {
    const form = new URLSearchParams({
      Action: 'SendEmail',
      'Destination.ToAddresses.member.1': 'bounce@simulator.amazonses.com',
      'Tags.member.1.Name': 'portal-patient',
      'Tags.member.1.Value': tags['portal-patient'][0]!,
      'Tags.member.2.Name': 'portal-purpose',
      'Tags.member.2.Value': 'invitation',
    }).toString();
    expect(readSendRequest('/', 'application/x-www-form-urlencoded; charset=utf-8', form)).toEqual({ to: ['bounce@simulator.amazonses.com'], tags });
    const v2 = JSON.stringify({ Destination: { ToAddresses: ['a@b.test'] }, EmailTags: [{ Name: 'portal-purpose', Value: 'reset' }] });
    expect(readSendRequest('/v2/email/outbound-emails', 'application/json', v2)).toEqual({ to: ['a@b.test'], tags: { 'portal-purpose': ['reset'] } });
    expect(readSendRequest('/', 'application/x-www-form-urlencoded', 'Action=ListIdentities')).toBeUndefined();
  });

  it('its events are what the delivery handler reads from EventBridge: Send then Bounce, in time order', () => {
    const sentAt = new Date('2026-11-21T10:00:00.000Z');
    const events = simulatedEvents({ messageId: 'm-1', to: 'bounce@simulator.amazonses.com', tags, sentAt }, ['Bounce'], (n) => new Date(sentAt.getTime() + n));
    expect(events.map((e) => e['detail-type'])).toEqual(['Email Sent', 'Email Bounced']);
    const read = events.map((e) => readSesEvent(SesEventBridgeEvent.parse(e).detail));
    expect(read.map((r) => r?.status)).toEqual(['Sent', 'Bounced']);
    expect(read[1]).toMatchObject({ patientId: 'P-1', purpose: 'invitation', at: '2026-11-21T10:00:00.001Z', mailAt: '2026-11-21T10:00:00.000Z' });
    const suppressed = simulatedEvents({ messageId: 'm-2', to: 'x', tags, sentAt }, ['Suppressed'], (n) => new Date(sentAt.getTime() + n));
    expect(readSesEvent(SesEventBridgeEvent.parse(suppressed[1]).detail)?.status).toBe('Suppressed');
  });
});
