/**
 * The SmsSender on AWS End User Messaging SMS (pinpoint-sms-voice-v2 `SendTextMessage`): from
 * the deployment's origination identity (SMS_ORIGINATION_IDENTITY: a phone number, pool or
 * sender ID, its id or ARN, from `cdk deploy -c smsOriginationIdentity=…`), TRANSACTIONAL (a
 * one-time code), with a short time to live (a code older than its 10 minutes is useless).
 * Locally SMS_ENDPOINT points the same client at the SMS outbox (lib/local/sms-outbox.ts), which
 * speaks the same JSON protocol: the same code path runs in both places.
 * Neither the number nor the body is ever logged; an error is passed on by name only.
 */
import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { config } from '../config.ts';
import { SMS_NOT_CONFIGURED, type SmsAvailability, type SmsSender } from '../domain/phone-codes.ts';

let client: PinpointSMSVoiceV2Client | undefined;

function sms(): PinpointSMSVoiceV2Client {
  if (!client) {
    const c = config();
    client = new PinpointSMSVoiceV2Client({ region: c.AWS_REGION, ...(c.SMS_ENDPOINT ? { endpoint: c.SMS_ENDPOINT } : {}) });
  }
  return client;
}

/** Where SMS stands: configured when there is an origination identity and a key for the codes. */
export function smsAvailability(): SmsAvailability {
  const c = config();
  if (!c.SMS_ORIGINATION_IDENTITY) return { configured: false, reason: SMS_NOT_CONFIGURED };
  if (!c.PHONE_CODE_KEY_ID && !c.PIN_KEY_FILE) return { configured: false, reason: 'this deployment has no key for phone codes (PHONE_CODE_KEY_ID)' };
  return { configured: true };
}

export function endUserMessagingSms(): SmsSender {
  return {
    async send({ to, body }) {
      const identity = config().SMS_ORIGINATION_IDENTITY;
      if (!identity) throw new Error('SMS is not configured');
      await sms().send(
        new SendTextMessageCommand({
          DestinationPhoneNumber: to,
          OriginationIdentity: identity,
          MessageBody: body,
          MessageType: 'TRANSACTIONAL',
          // Seconds: past the code's 10 minutes a late text only confuses.
          TimeToLive: 600,
        }),
      );
    },
  };
}
