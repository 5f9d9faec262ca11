/**
 * Issue 19 item 3: the practice inbox is told when there is work for staff, with no PHI ever (no
 * patient, record, address or date of birth: the notice is made from its kind and the practice's
 * settings only), and rule 20: a notice that fails to send is logged with names only, never the
 * inbox address, even when the mail service's error quotes it. A failed notice never fails what
 * it tells of.
 */
import { describe, expect, it } from 'vitest';
import { auditEvent, settingsTarget } from '../../../lambdas/domain/audit.ts';
import { consoleLink, notifyPractice, type PracticeNoticeDeps } from '../../../lambdas/domain/practice-notices.ts';
import { defaultSettings } from '../../../lambdas/domain/settings.ts';
import type { OutgoingEmail } from '../../../lambdas/domain/invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';

const defaults = { practiceName: 'Riverside Clinic', portalUrl: 'https://portal.example.test/' };
const inbox = 'inbox@practice.test';

async function practice(notifyEmail?: string) {
  const mem = memoryStore();
  if (notifyEmail) {
    await mem.store.saveSettings({ ...defaultSettings(defaults), notifyEmail }, 0, auditEvent({ id: 'boss', sourceIp: '1' }, settingsTarget, 'settings.updated', new Date()));
  }
  const sent: OutgoingEmail[] = [];
  const warnings: { msg: string; fields: Record<string, string | number> }[] = [];
  let failWith: unknown;
  const deps: PracticeNoticeDeps = {
    store: mem.store,
    settingsDefaults: defaults,
    mailer: {
      async send(email) {
        if (failWith !== undefined) throw failWith;
        sent.push(email);
      },
    },
    warn: (msg, fields) => void warnings.push({ msg, fields }),
  };
  return { deps, sent, warnings, fail: (err: unknown) => void (failWith = err) };
}

describe('practice notices: sent where asked, naming no one (issue 19 item 3)', () => {
  it('one message to the practice inbox, from the practice name and the console link only', async () => {
    const p = await practice(inbox);
    await notifyPractice(p.deps, 'awaiting-approval');
    expect(p.sent).toHaveLength(1);
    expect(p.sent[0]).toMatchObject({ to: inbox, subject: 'Riverside Clinic portal: a registration awaits approval' });
    expect(p.sent[0]!.text).toContain('https://portal.example.test/console');
    expect(p.sent[0]!.html).toContain('https://portal.example.test/console');
    await notifyPractice(p.deps, 'patient-registered');
    expect(p.sent[1]).toMatchObject({ to: inbox, subject: 'Riverside Clinic portal: a patient finished registering' });
    expect(p.warnings).toEqual([]);
  });

  it('no PHI: no address but the inbox it goes to, no date, no patient or record named, in any part', async () => {
    const p = await practice(inbox);
    await notifyPractice(p.deps, 'patient-registered');
    await notifyPractice(p.deps, 'awaiting-approval');
    for (const email of p.sent) {
      const body = `${email.subject}\n${email.text}\n${email.html}`;
      expect(body).not.toContain('@');
      expect(body).not.toMatch(/\d{4}-\d{2}-\d{2}|patient:|P-\d|\bpatientId\b/);
      expect(Object.keys(email).sort()).toEqual(['html', 'subject', 'text', 'to']);
    }
  });

  it('no inbox set: nothing is sent and nothing logged', async () => {
    const p = await practice();
    await notifyPractice(p.deps, 'awaiting-approval');
    expect(p.sent).toEqual([]);
    expect(p.warnings).toEqual([]);
  });
});

describe('practice notices: a failure is logged with names only (rule 20) and never thrown', () => {
  it('the mail service refusing (its message quoting the inbox) is one warning: the notice kind and the error name', async () => {
    const p = await practice(inbox);
    p.fail(Object.assign(new Error(`Email address is not verified: ${inbox}`), { name: 'MessageRejected' }));
    await expect(notifyPractice(p.deps, 'awaiting-approval')).resolves.toBeUndefined();
    expect(p.warnings).toEqual([{ msg: 'practice notice not sent', fields: { notice: 'awaiting-approval', errorName: 'MessageRejected' } }]);
    expect(JSON.stringify(p.warnings)).not.toContain('@');
  });

  it('something thrown that is not an Error is named "unknown", not quoted', async () => {
    const p = await practice(inbox);
    p.fail(inbox);
    await notifyPractice(p.deps, 'patient-registered');
    expect(p.warnings).toEqual([{ msg: 'practice notice not sent', fields: { notice: 'patient-registered', errorName: 'unknown' } }]);
  });

  it('without a logger a failure is still swallowed, also when the settings cannot be read', async () => {
    const p = await practice(inbox);
    p.fail(new Error('down'));
    const { warn: _none, ...quiet } = p.deps;
    await expect(notifyPractice(quiet, 'awaiting-approval')).resolves.toBeUndefined();
    const broken: PracticeNoticeDeps = { ...p.deps, store: { getSettings: () => Promise.reject(Object.assign(new Error('x'), { name: 'ProvisionedThroughputExceededException' })) } };
    await expect(notifyPractice(broken, 'awaiting-approval')).resolves.toBeUndefined();
    expect(p.warnings.at(-1)!.fields).toEqual({ notice: 'awaiting-approval', errorName: 'ProvisionedThroughputExceededException' });
  });
});

describe('consoleLink: the console under the deployment portal URL', () => {
  it('one slash between, however many the URL ends with', () => {
    expect(consoleLink('https://portal.example.test')).toBe('https://portal.example.test/console');
    expect(consoleLink('https://portal.example.test/')).toBe('https://portal.example.test/console');
    expect(consoleLink('https://example.test/portal//')).toBe('https://example.test/portal/console');
  });
});
