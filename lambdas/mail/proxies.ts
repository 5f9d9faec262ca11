/**
 * The proxy invitation email (issue 18): the link only, never the PIN (staff or the patient
 * hand it over), no name of the patient or the proxy (no PHI in email, as every template in
 * ./templates.ts). HTML built with the pages' escaping `html` template.
 */
import { html } from '../pages/layout.ts';
import { formatExpiry, type RenderedEmail } from './templates.ts';

const oneLine = (value: string) => value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

export function proxyInvitationEmail({ practiceName, link, expiresAt }: { practiceName: string; link: string; expiresAt: string }): RenderedEmail {
  const until = formatExpiry(expiresAt);
  const subject = oneLine(`You have been invited to help someone with the ${practiceName} patient portal`);
  const lines = [
    `${practiceName} has invited you to act for one of its patients in its patient portal (for example as a parent or a carer).`,
    'To accept, open this link. You can create a login of your own, or add this access to the portal login you already have:',
  ];
  const after = [
    `The link works until ${until}. You will also need the 6-character PIN you were given; it is not in this email.`,
    `If you did not expect this email, or the link no longer works, call ${practiceName}. Never share the link or the PIN.`,
  ];
  const text = ['Hello,', '', lines.join(' '), '', link, '', ...after.flatMap((p) => [p, '']), practiceName, ''].join('\n');
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${practiceName}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em; margin: 0 auto; padding: 1em;">
<p>Hello,</p>
<p>${lines.join(' ')}</p>
<p><a href="${link}">Accept the invitation</a><br><span style="word-break: break-all;">${link}</span></p>
${after.map((p) => html`<p>${p}</p>\n`)}<p>${practiceName}</p>
</body></html>`.value;
  return { subject, text, html: body };
}
