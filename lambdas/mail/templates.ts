/**
 * Every email the service sends, in one place. Each has a plain-text and an HTML part, names the
 * practice, says until when the link works and whom to ask. No PIN (except the reset email,
 * where issue 4 puts the link and the reset PIN together), no PHI: the record holds
 * no name, so the greeting names no one (api.md "Secrets", issue 3 item 8). Every value put into
 * the HTML is escaped, the link included: the HTML parts are built with the pages' `html` tagged
 * template (lambdas/pages/layout.ts, the one escaping home), which escapes every interpolation
 * unless it is markup that template built itself. No string concatenation makes HTML here.
 */
import { html, type RawHtml } from '../pages/layout.ts';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** "5 December 2026, 10:00 UTC": unambiguous for any reader. */
export function formatExpiry(iso: string): string {
  const at = new Date(iso);
  const date = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(at);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(at);
  return `${date}, ${time} UTC`;
}

/** A subject or header value: one line, no control characters. */
const oneLine = (value: string) => value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

/** The HTML part: each paragraph is a string (escaped here) or markup built with `html`. */
function layout(practiceName: string, paragraphs: readonly (string | RawHtml)[]): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${practiceName}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em; margin: 0 auto; padding: 1em;">
${paragraphs.map((p) => html`<p>${p}</p>\n`)}<p>${practiceName}</p>
</body></html>`.value;
}

/** A link shown as a button-like anchor and spelled out beneath it (some clients hide hrefs). */
const linkBlock = (link: string, label: string): RawHtml =>
  html`<a href="${link}">${label}</a><br><span style="word-break: break-all;">${link}</span>`;

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
  const htmlPart = layout(practiceName, [
    'Hello,',
    html`${practiceName} has invited you to its patient portal. To create your login, open this link:`,
    linkBlock(link, 'Create your portal login'),
    html`The link works until <strong>${until}</strong>. You will also need the 6-character PIN the practice gave you in person; it is not in this email.`,
    html`If you did not expect this email, or the link no longer works, call ${practiceName} and ask the front desk for a new invitation. Never share the link or your PIN.`,
  ]);
  return { subject, text, html: htmlPart };
}

export interface ResetEmailInput {
  practiceName: string;
  /** The reset link, built from the configured portal URL (rule 14). */
  link: string;
  /** The 6-character reset PIN (the issue puts link and PIN in one email). */
  pin: string;
  expiresAt: string;
}

/**
 * The credential reset: the link and the PIN, both valid until the same time. No username and no
 * password: the patient types the current username again on the reset page.
 */
export function resetEmail({ practiceName, link, pin, expiresAt }: ResetEmailInput): RenderedEmail {
  const until = formatExpiry(expiresAt);
  const subject = oneLine(`Reset your ${practiceName} patient portal password`);
  const text = [
    'Hello,',
    '',
    `Someone asked to reset the password of your ${practiceName} patient portal login. To choose a new password, open this link:`,
    '',
    link,
    '',
    `and enter this PIN: ${pin}`,
    '',
    `The link and the PIN work once, until ${until}. You will also be asked for your current username.`,
    '',
    `If you did not ask for this, ignore this email: your password stays as it is. If you keep getting these emails, call ${practiceName}. Never share the link or the PIN.`,
    '',
    practiceName,
    '',
  ].join('\n');
  const htmlPart = layout(practiceName, [
    'Hello,',
    html`Someone asked to reset the password of your ${practiceName} patient portal login. To choose a new password, open this link:`,
    linkBlock(link, 'Reset your password'),
    html`and enter this PIN: <strong style="font-family: monospace; font-size: 1.3em; letter-spacing: 0.1em;">${pin}</strong>`,
    html`The link and the PIN work once, until <strong>${until}</strong>. You will also be asked for your current username.`,
    html`If you did not ask for this, ignore this email: your password stays as it is. If you keep getting these emails, call ${practiceName}. Never share the link or the PIN.`,
  ]);
  return { subject, text, html: htmlPart };
}

export interface CredentialsChangedInput {
  practiceName: string;
  /** When the change happened (ISO). */
  at: string;
  /** What changed (default: the password) and how: with a reset link (default) or signed in, on the account page. */
  changed?: { password: boolean; username: boolean };
  how?: 'reset-link' | 'account-page';
}

/** What changed and how, in words (never the username itself). */
function changeWords(changed: CredentialsChangedInput['changed'] = { password: true, username: false }, how: CredentialsChangedInput['how'] = 'reset-link') {
  const what = changed.password && changed.username ? 'password and username' : changed.username ? 'username' : 'password';
  const verb = changed.password && changed.username ? 'were' : 'was';
  const means = how === 'account-page' ? 'by someone signed in to it, on its account page' : 'with a reset link';
  const sessions = how === 'account-page' ? 'every other session' : 'every session';
  return { what, verb, means, sessions };
}

/** After a reset or an account-page change (rule 15): says what changed, how, and whom to call; nothing secret, no username. */
export function credentialsChangedEmail({ practiceName, at, changed, how }: CredentialsChangedInput): RenderedEmail {
  const when = formatExpiry(at);
  const { what, verb, means, sessions } = changeWords(changed, how);
  const subject = oneLine(`Your ${practiceName} patient portal credentials were changed`);
  const text = [
    'Hello,',
    '',
    `The ${what} of your ${practiceName} patient portal login ${verb} changed on ${when} ${means}, and ${sessions} was signed out.`,
    '',
    `If this was you, there is nothing more to do. If it was not, call ${practiceName} at once and ask the front desk to lock your portal access.`,
    '',
    practiceName,
    '',
  ].join('\n');
  const htmlPart = layout(practiceName, [
    'Hello,',
    html`The ${what} of your ${practiceName} patient portal login ${verb} changed on <strong>${when}</strong> ${means}, and ${sessions} was signed out.`,
    html`If this was you, there is nothing more to do. If it was not, call ${practiceName} at once and ask the front desk to lock your portal access.`,
  ]);
  return { subject, text, html: htmlPart };
}

export interface EmailMatchEmailInput {
  practiceName: string;
  /** The verification link, `${portalUrl}/portal/verify#token=…`, from the configured portal URL (rule 14). */
  link: string;
  expiresAt: string;
}

/**
 * The email-match method's verification: someone entered this address in the portal and it is
 * on file for a patient without a login. Opening the link proves control of the mailbox; it is
 * then the patient who chooses a username and password. No PIN exists for this method.
 */
export function emailMatchEmail({ practiceName, link, expiresAt }: EmailMatchEmailInput): RenderedEmail {
  const until = formatExpiry(expiresAt);
  const subject = oneLine(`Confirm your email to set up your ${practiceName} patient portal login`);
  const text = [
    'Hello,',
    '',
    `This email address was entered on the ${practiceName} patient portal to set up a portal login. To confirm it is yours and choose your username and password, open this link:`,
    '',
    link,
    '',
    `The link works once, until ${until}.`,
    '',
    `If you did not ask for this, you can ignore this email: nobody can use the link without access to your mailbox. If you have questions, call ${practiceName} and ask the front desk. Never share this link.`,
    '',
    practiceName,
    '',
  ].join('\n');
  const htmlPart = layout(practiceName, [
    'Hello,',
    html`This email address was entered on the ${practiceName} patient portal to set up a portal login. To confirm it is yours and choose your username and password, open this link:`,
    linkBlock(link, 'Confirm and set up your portal login'),
    html`The link works once, until <strong>${until}</strong>.`,
    html`If you did not ask for this, you can ignore this email: nobody can use the link without access to your mailbox. If you have questions, call ${practiceName} and ask the front desk. Never share this link.`,
  ]);
  return { subject, text, html: htmlPart };
}

/**
 * The email-match method when the address is on file for more than one patient without a login
 * (a family sharing one mailbox): no link, since it could not say whose login it would create.
 */
export function emailMatchAmbiguousEmail({ practiceName }: { practiceName: string }): RenderedEmail {
  const subject = oneLine(`Setting up your ${practiceName} patient portal login`);
  const lines = [
    `This email address was entered on the ${practiceName} patient portal to set up a portal login.`,
    `More than one patient uses this address at ${practiceName}, so the portal cannot tell whose login to set up. Please call ${practiceName} and ask the front desk for an invitation instead.`,
    'If you did not ask for this, you can ignore this email.',
  ];
  const text = ['Hello,', '', lines[0], '', lines[1], '', lines[2], '', practiceName, ''].join('\n');
  const htmlPart = layout(practiceName, ['Hello,', ...lines]);
  return { subject, text, html: htmlPart };
}

export interface EmailChangedInput {
  practiceName: string;
  /** When the change was made (ISO). */
  at: string;
}

/**
 * Security rule 29: sent to the OLD address when staff change the email of a record that has a
 * login, so a patient whose address was swapped learns of it. No secret, no link, not the new
 * address: only what happened, when, and whom to call.
 */
export function emailChangedEmail({ practiceName, at }: EmailChangedInput): RenderedEmail {
  const when = formatExpiry(at);
  const subject = oneLine(`The email address of your ${practiceName} patient portal login was changed`);
  const lines = [
    `The email address of your ${practiceName} patient portal login was changed on ${when}, and emails about your login now go to the new address. This address gets no more of them.`,
    'Any invitation, reset or verification link sent before the change no longer works.',
    `If you asked for this, there is nothing more to do. If you did not, call ${practiceName} at once and ask the front desk to lock your portal access.`,
  ];
  const text = ['Hello,', '', lines[0], '', lines[1], '', lines[2], '', practiceName, ''].join('\n');
  const htmlPart = layout(practiceName, ['Hello,', ...lines]);
  return { subject, text, html: htmlPart };
}

// ------------------------------------------------------------------------------ self-registration (issue 19)

export interface SelfRegistrationLinkInput {
  practiceName: string;
  /** `${portalUrl}/portal/self-register#token=…`, from the configured portal URL (rule 14). */
  link: string;
  expiresAt: string;
}

/**
 * Someone asked to register with this address on the self-registration form: the link proves
 * the mailbox. It says nothing of whether the practice knows the address (rule 13).
 */
export function selfRegistrationLinkEmail({ practiceName, link, expiresAt }: SelfRegistrationLinkInput): RenderedEmail {
  const until = formatExpiry(expiresAt);
  const subject = oneLine(`Confirm your email to ask for a ${practiceName} patient portal login`);
  const lines = [
    `This email address was entered on the ${practiceName} patient portal registration form. To confirm it is yours and send your request to the practice, open this link:`,
    `The link works once, until ${until}. The practice then checks your request and emails you again.`,
    `If you did not ask for this, you can ignore this email: nothing happens unless the link is opened. Never share this link.`,
  ];
  const text = ['Hello,', '', lines[0], '', link, '', lines[1], '', lines[2], '', practiceName, ''].join('\n');
  const htmlPart = layout(practiceName, ['Hello,', lines[0]!, linkBlock(link, 'Confirm my email'), lines[1]!, lines[2]!]);
  return { subject, text, html: htmlPart };
}

/** Staff approved the request: the link to choose a username and password (the email-match link). */
export function selfRegistrationApprovedEmail({ practiceName, link, expiresAt }: SelfRegistrationLinkInput): RenderedEmail {
  const until = formatExpiry(expiresAt);
  const subject = oneLine(`Set up your ${practiceName} patient portal login`);
  const lines = [
    `${practiceName} has accepted your request for a patient portal login. To choose your username and password, open this link:`,
    `The link works once, until ${until}.`,
    `If you have questions, call ${practiceName} and ask the front desk. Never share this link.`,
  ];
  const text = ['Hello,', '', lines[0], '', link, '', lines[1], '', lines[2], '', practiceName, ''].join('\n');
  const htmlPart = layout(practiceName, ['Hello,', lines[0]!, linkBlock(link, 'Set up my portal login'), lines[1]!, lines[2]!]);
  return { subject, text, html: htmlPart };
}

/**
 * Staff declined the request. Words that reveal nothing about any record: not whether the
 * person is a patient, not the reason staff wrote down.
 */
export function selfRegistrationDeclinedEmail({ practiceName }: { practiceName: string }): RenderedEmail {
  const subject = oneLine(`Your ${practiceName} patient portal request`);
  const lines = [
    `Thank you for your request for a ${practiceName} patient portal login. The practice could not set one up from this request.`,
    `If you would like a portal login, please call ${practiceName} and ask the front desk.`,
  ];
  const text = ['Hello,', '', lines[0], '', lines[1], '', practiceName, ''].join('\n');
  const htmlPart = layout(practiceName, ['Hello,', ...lines]);
  return { subject, text, html: htmlPart };
}

/** What a practice notice is about (lambdas/domain/practice-notices.ts). */
export type PracticeNoticeKind = 'awaiting-approval' | 'patient-registered';

/** The practice inbox's notice: no PHI, no name, no record, no address — only that there is work. */
export function practiceNoticeEmail({ practiceName, kind, consoleUrl }: { practiceName: string; kind: PracticeNoticeKind; consoleUrl: string }): RenderedEmail {
  const what = kind === 'awaiting-approval' ? 'A registration awaits approval' : 'A patient finished registering';
  const detail =
    kind === 'awaiting-approval'
      ? 'A portal registration request has been confirmed and waits for staff to approve or reject it under "Waiting for approval" in the staff console.'
      : 'A patient finished registering for the portal. The staff console can list the records registered since a date.';
  const subject = oneLine(`${practiceName} portal: ${what.toLowerCase()}`);
  const text = [`${what}.`, '', detail, '', consoleUrl, '', 'This notice names no one on purpose.', ''].join('\n');
  const htmlPart = layout(practiceName, [`${what}.`, detail, linkBlock(consoleUrl, 'Open the staff console'), 'This notice names no one on purpose.']);
  return { subject, text, html: htmlPart };
}
