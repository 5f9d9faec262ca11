import { describe, expect, it } from 'vitest';
import { emailMatchAmbiguousEmail, emailMatchEmail } from '../../../lambdas/mail/templates.ts';

const input = {
  practiceName: 'Maple & Oak <Clinic>',
  link: 'https://portal.maple.test/portal/verify#token=abc_DEF-123&x="1"',
  expiresAt: '2026-12-05T10:00:00.000Z',
};

describe('the email-match verification email', () => {
  it('has a plain-text and an HTML part with the practice name, the link, the expiry and whom to call', () => {
    const email = emailMatchEmail(input);
    expect(email.subject).toBe('Confirm your email to set up your Maple & Oak <Clinic> patient portal login');
    for (const part of [email.text]) {
      expect(part).toContain(input.link);
      expect(part).toContain('5 December 2026, 10:00 UTC');
      expect(part).toMatch(/call Maple & Oak <Clinic>/);
    }
    expect(email.html).toContain('href="https://portal.maple.test/portal/verify#token=abc_DEF-123&amp;x=&quot;1&quot;"');
    expect(email.html).toContain('5 December 2026, 10:00 UTC');
    expect(email.html).toMatch(/call Maple &amp; Oak &lt;Clinic&gt;/);
    expect(email.html).not.toContain('<Clinic>');
  });

  it('carries no PIN and no PHI: only the practice name, the link and the date vary', () => {
    const a = emailMatchEmail(input);
    const b = emailMatchEmail({ practiceName: 'X', link: 'https://x.test/l', expiresAt: '2027-01-01T00:00:00.000Z' });
    const strip = (s: string, v: typeof input) =>
      s.split(v.link).join('').split(v.practiceName).join('').split('5 December 2026, 10:00 UTC').join('').split('1 January 2027, 00:00 UTC').join('');
    expect(strip(a.text, input)).toBe(strip(b.text, { practiceName: 'X', link: 'https://x.test/l', expiresAt: '' }));
    expect(a.text).not.toMatch(/\bPIN\b/);
  });

  it('the shared-address note has both parts, no link, and tells the patient to call the practice', () => {
    const email = emailMatchAmbiguousEmail({ practiceName: 'Maple & Oak <Clinic>' });
    expect(email.text).toMatch(/call Maple & Oak <Clinic>/);
    expect(email.html).toMatch(/call Maple &amp; Oak &lt;Clinic&gt;/);
    expect(`${email.text}${email.html}`).not.toMatch(/token=|https?:/);
    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});
