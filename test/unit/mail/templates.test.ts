import { describe, expect, it } from 'vitest';
import { formatExpiry, invitationEmail } from '../../../lambdas/mail/templates.ts';
import { escapeHtml } from '../../../lambdas/pages/layout.ts';

const input = {
  practiceName: 'Maple & Oak <Clinic>',
  link: 'https://portal.maple.test/portal/register#token=abc_DEF-123&x="1"',
  expiresAt: '2026-12-05T10:00:00.000Z',
};

describe('the invitation email', () => {
  it('has a plain-text and an HTML part, each with the practice name, the link, the expiry and whom to call', () => {
    const email = invitationEmail(input);
    expect(email.subject).toBe('Your invitation to the Maple & Oak <Clinic> patient portal');
    expect(email.text).toContain('Maple & Oak <Clinic>');
    expect(email.text).toContain(input.link);
    expect(email.text).toContain('5 December 2026, 10:00 UTC');
    expect(email.text).toMatch(/call Maple & Oak <Clinic>/);
    expect(email.html).toContain('Maple &amp; Oak &lt;Clinic&gt;');
    expect(email.html).toContain('href="https://portal.maple.test/portal/register#token=abc_DEF-123&amp;x=&quot;1&quot;"');
    expect(email.html).toContain('5 December 2026, 10:00 UTC');
    expect(email.html).toMatch(/call Maple &amp; Oak &lt;Clinic&gt;/);
  });

  it('escapes every interpolated value in the HTML part: no raw angle bracket or quote from the input survives', () => {
    const hostile = invitationEmail({ ...input, practiceName: '<script>alert(1)</script>"\'&' });
    expect(hostile.html).not.toContain('<script>');
    expect(hostile.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
  });

  it('says there is a PIN but never carries one, and names no person (there is no name to use)', () => {
    const email = invitationEmail(input);
    expect(email.text).toMatch(/PIN the practice gave you in person; it is not in this email/);
    // Nothing in the parts but the practice name, the link and the date is variable.
    const other = invitationEmail({ ...input, practiceName: 'X', link: 'https://x.test/l', expiresAt: '2027-01-01T00:00:00.000Z' });
    const strip = (s: string, v: typeof input) => s.split(escapeHtml(v.link)).join('').split(v.link).join('').split(escapeHtml(v.practiceName)).join('').split(v.practiceName).join('').split(formatExpiry(v.expiresAt)).join('');
    expect(strip(email.text, input)).toBe(strip(other.text, { practiceName: 'X', link: 'https://x.test/l', expiresAt: '2027-01-01T00:00:00.000Z' }));
    expect(strip(email.html, input)).toBe(strip(other.html, { practiceName: 'X', link: 'https://x.test/l', expiresAt: '2027-01-01T00:00:00.000Z' }));
  });

  it('keeps the subject on one line whatever the practice name holds', () => {
    expect(invitationEmail({ ...input, practiceName: 'A\r\nBcc: evil@x.test' }).subject).not.toMatch(/[\r\n]/);
  });
});
