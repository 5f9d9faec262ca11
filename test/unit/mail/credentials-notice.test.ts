import { describe, expect, it } from 'vitest';
import { credentialsChangedEmail } from '../../../lambdas/mail/templates.ts';

const at = '2026-11-21T10:00:00.000Z';

describe('the credentials-changed notice says what changed and how (issue 15 item 5)', () => {
  it('after a reset: the password, with a reset link, every session signed out (unchanged default)', () => {
    const mail = credentialsChangedEmail({ practiceName: 'Maple', at });
    expect(mail.text).toContain('The password of your Maple patient portal login was changed on');
    expect(mail.text).toContain('with a reset link, and every session was signed out.');
  });

  it('after an account-page password change: not "with a reset link", but signed in on the account page', () => {
    const mail = credentialsChangedEmail({ practiceName: 'Maple', at, how: 'account-page', changed: { password: true, username: false } });
    for (const part of [mail.text, mail.html]) {
      expect(part).not.toContain('reset link');
      expect(part).toContain('by someone signed in to it, on its account page');
      expect(part).toContain('every other session was signed out');
    }
    expect(mail.text).toContain('The password of your');
  });

  it('a username change says username; both say password and username; never the username itself', () => {
    expect(credentialsChangedEmail({ practiceName: 'Maple', at, how: 'account-page', changed: { password: false, username: true } }).text).toContain(
      'The username of your Maple patient portal login was changed',
    );
    expect(credentialsChangedEmail({ practiceName: 'Maple', at, how: 'account-page', changed: { password: true, username: true } }).text).toContain(
      'The password and username of your Maple patient portal login were changed',
    );
  });
});
