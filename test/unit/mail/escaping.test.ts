/**
 * Issue 14 item 3: every email's HTML part is built with the pages' `html` tagged template
 * (lambdas/pages/layout.ts), so a hostile value in any field, in any template, comes out as text.
 * The emails carry no patient field (no name, api.md "Secrets"): the values are the practice
 * name, the link, the PIN and the dates.
 */
import { describe, expect, it } from 'vitest';
import {
  credentialsChangedEmail,
  emailChangedEmail,
  emailMatchAmbiguousEmail,
  emailMatchEmail,
  invitationEmail,
  resetEmail,
  type RenderedEmail,
} from '../../../lambdas/mail/templates.ts';
import { escapeHtml } from '../../../lambdas/pages/layout.ts';

const practiceName = `<script>alert("x")</script> O'Brien & "Sons" <img src=x onerror=alert(1)>`;
const link = `https://portal.example.test/portal/x#token=abc"><script>alert('l')</script>&x=1`;
const pin = `<b>"1'`;
const at = '2026-12-05T10:00:00.000Z';

const emails: Record<string, RenderedEmail> = {
  invitation: invitationEmail({ practiceName, link, expiresAt: at }),
  reset: resetEmail({ practiceName, link, pin, expiresAt: at }),
  'credentials changed': credentialsChangedEmail({ practiceName, at }),
  'email match': emailMatchEmail({ practiceName, link, expiresAt: at }),
  'email match, ambiguous': emailMatchAmbiguousEmail({ practiceName }),
  'email changed': emailChangedEmail({ practiceName, at }),
};

/** The tags and attributes our own markup uses; anything else in the HTML part came from a value. */
const ourTags = new Set(['html', 'head', 'meta', 'title', 'body', 'p', 'a', 'br', 'span', 'strong']);

describe.each(Object.entries(emails))('the %s email', (_name, email) => {
  it('escapes <script>, quotes and ampersands in every value of the HTML part', () => {
    expect(email.html).not.toMatch(/<script|<img|<b>/i);
    expect(email.html).toContain(escapeHtml(practiceName));
    // Every tag left in the HTML is one of ours.
    const tags = [...email.html.matchAll(/<\/?([a-z!]+)/gi)].map((m) => m[1]!.toLowerCase()).filter((t) => t !== '!doctype');
    expect(tags.filter((t) => !ourTags.has(t))).toEqual([]);
    // No attribute value is broken out of: every quote in a tag pairs up with our own attributes.
    for (const tag of email.html.match(/<[^>]*>/g) ?? []) expect((tag.match(/"/g) ?? []).length % 2).toBe(0);
  });

  it('the practice name, the link and the PIN appear in the HTML only escaped', () => {
    for (const value of [practiceName, link, pin]) expect(email.html).not.toContain(value);
    if (email.text.includes(link)) expect(email.html).toContain(`href="${escapeHtml(link)}"`);
    if (email.text.includes(pin)) expect(email.html).toContain(escapeHtml(pin));
  });

  it('the plain-text part keeps the values as they are, and the subject is one line', () => {
    expect(email.text).toContain(practiceName);
    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});
