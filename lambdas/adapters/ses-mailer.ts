/**
 * The Mailer on SES (v1 SendEmail): from the configured sender, through the configuration set
 * that requires TLS (rule 21) where one is configured, to aws-ses-v2-local's mailbox on the
 * local stack (SES_ENDPOINT). The client is made once per cold start.
 *
 * With tags, every message carries them as SES message tags (the record's patientId, hex, and
 * the email's purpose: never an address or other PHI). SES echoes message tags in every event
 * the configuration set publishes, which is how a delivery event finds its record
 * (lambdas/domain/delivery.ts).
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { config } from '../config.ts';
import { messageTags, type MailTags } from '../domain/delivery.ts';
import type { Mailer } from '../domain/invitations.ts';

let client: SESClient | undefined;

function ses(): SESClient {
  if (!client) {
    const c = config();
    client = new SESClient({ region: c.AWS_REGION, ...(c.SES_ENDPOINT ? { endpoint: c.SES_ENDPOINT } : {}) });
  }
  return client;
}

export function sesMailer(tags?: MailTags): Mailer {
  const c = config();
  return {
    async send(email) {
      const content = (data: string) => ({ Data: data, Charset: 'UTF-8' });
      await ses().send(
        new SendEmailCommand({
          Source: c.SENDER_EMAIL,
          Destination: { ToAddresses: [email.to] },
          Message: { Subject: content(email.subject), Body: { Text: content(email.text), Html: content(email.html) } },
          ...(c.SES_CONFIGURATION_SET ? { ConfigurationSetName: c.SES_CONFIGURATION_SET } : {}),
          ...(tags ? { Tags: messageTags(tags) } : {}),
        }),
      );
    },
  };
}
