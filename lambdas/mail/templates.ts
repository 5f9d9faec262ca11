/**
 * Every email the service sends, in one place. Each has a plain-text and an HTML part, names the
 * practice, says until when the link works and whom to ask. No PIN, no PHI: the record holds
 * no name, so the greeting names no one (api.md "Secrets", issue 3 item 8). Every value put into
 * the HTML is escaped, the link included.
 */

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => htmlEscapes[c]!);

/** "5 December 2026, 10:00 UTC": unambiguous for any reader. */
export function formatExpiry(iso: string): string {
  const at = new Date(iso);
  const date = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(at);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(at);
  return `${date}, ${time} UTC`;
}

/** A subject or header value: one line, no control characters. */
const oneLine = (value: string) => value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

function layout(practiceName: string, paragraphs: string[]): string {
  const name = escapeHtml(practiceName);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${name}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em; margin: 0 auto; padding: 1em;">',
    ...paragraphs.map((p) => `<p>${p}</p>`),
    `<p>${name}</p>`,
    '</body></html>',
  ].join('\n');
}

export interface InvitationEmailInput {
  practiceName: string;
  /** The registration link, built from the configured portal URL (rule 14). */
  link: string;
  expiresAt: string;
}

/** The invitation: the link only. The PIN is given in person and never emailed. */
export function invitationEmail({ practiceName, link, expiresAt }: InvitationEmailInput): RenderedEmail {
  const until = formatExpiry(expiresAt);
  const subject = oneLine(`Your invitation to the ${practiceName} patient portal`);
  const text = [
    'Hello,',
    '',
    `${practiceName} has invited you to its patient portal. To create your login, open this link:`,
    '',
    link,
    '',
    `The link works until ${until}. You will also need the 6-character PIN the practice gave you in person; it is not in this email.`,
    '',
    `If you did not expect this email, or the link no longer works, call ${practiceName} and ask the front desk for a new invitation. Never share the link or your PIN.`,
    '',
    practiceName,
    '',
  ].join('\n');
  const html = layout(practiceName, [
    'Hello,',
    `${escapeHtml(practiceName)} has invited you to its patient portal. To create your login, open this link:`,
    `<a href="${escapeHtml(link)}">Create your portal login</a><br><span style="word-break: break-all;">${escapeHtml(link)}</span>`,
    `The link works until <strong>${escapeHtml(until)}</strong>. You will also need the 6-character PIN the practice gave you in person; it is not in this email.`,
    `If you did not expect this email, or the link no longer works, call ${escapeHtml(practiceName)} and ask the front desk for a new invitation. Never share the link or your PIN.`,
  ]);
  return { subject, text, html };
}
