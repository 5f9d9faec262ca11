/**
 * The Mailer on SES (v1 SendEmail): from the configured sender, through the configuration set
 * that requires TLS (rule 21) where one is configured, to aws-ses-v2-local's mailbox on the
 * local stack (SES_ENDPOINT). The client is made once per cold start.
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { config } from '../config.ts';
import type { Mailer } from '../domain/invitations.ts';

let client: SESClient | undefined;

function ses(): SESClient {
  if (!client) {
    const c = config();
    client = new SESClient({ region: c.AWS_REGION, ...(c.SES_ENDPOINT ? { endpoint: c.SES_ENDPOINT } : {}) });
  }
  return client;
}

export function sesMailer(): Mailer {
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
        }),
      );
    },
  };
}
