/**
 * Issue 13 item 5: portalUrl is the deployment's, read-only (api.md). A PUT with another value is
 * 400 naming it; every emailed link is built from the deployment's URL, also where an earlier
 * version stored another one in the settings item.
 */
import { describe, expect, it } from 'vitest';
import { auditEvent, settingsTarget } from '../../../lambdas/domain/audit.ts';
import { requestEmailMatch } from '../../../lambdas/domain/email-match.ts';
import { sendInvitation } from '../../../lambdas/domain/invitations.ts';
import { changeSettings, defaultSettings, readSettings } from '../../../lambdas/domain/settings.ts';
import { fixedClock, memoryStore } from '../../support/memory-store.ts';
import { emailMatchHarness } from './email-match-harness.ts';
import { practice, staff } from './invitation-harness.ts';

const actor = { id: 'boss', sourceIp: '198.51.100.1' };
const defaults = { practiceName: 'Riverside Clinic', portalUrl: 'https://portal.example.test' };
const evil = 'https://portal-login.evil.test';

describe('portalUrl is read-only', () => {
  it('a PUT with a different portalUrl is 400 naming it, and changes nothing (not even the other fields sent with it)', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, defaults, clock: fixedClock() };
    await expect(changeSettings(deps, actor, { portalUrl: evil, resetMinutes: 30 })).rejects.toMatchObject({
      kind: 'bad-request',
      extra: { errors: [{ path: 'body.portalUrl', message: expect.stringMatching(/read-only/) }] },
    });
    expect((await readSettings(deps)).settings).toMatchObject({ portalUrl: defaults.portalUrl, resetMinutes: 60 });
    expect(mem.audit).toHaveLength(0);
  });

  it('the same value (a client sending back what GET answered) is accepted with the other changes', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, defaults, clock: fixedClock() };
    const { settings } = await readSettings(deps);
    const next = await changeSettings(deps, actor, { ...settings, resetMinutes: 30 });
    expect(next).toMatchObject({ portalUrl: defaults.portalUrl, resetMinutes: 30 });
    expect(mem.audit.map((a) => a.detail.fields)).toEqual([['resetMinutes']]);
  });

  it('a portalUrl stored by an earlier version is ignored: GET answers the deployment\'s', async () => {
    const mem = memoryStore();
    await mem.store.saveSettings({ ...defaultSettings(defaults), portalUrl: evil, invitationDays: 3 }, 0, auditEvent(actor, settingsTarget, 'settings.updated', new Date(), {}));
    const { settings } = await readSettings({ store: mem.store, defaults });
    expect(settings).toMatchObject({ portalUrl: defaults.portalUrl, invitationDays: 3 });
  });

  it('every emailed link is built from the deployment\'s URL, never from a stored one (invitation, verify link)', async () => {
    const h = emailMatchHarness();
    await h.settings({ emailMatch: true });
    const stored = (await h.mem.store.getSettings())!;
    await h.mem.store.saveSettings({ ...defaultSettings(practice), ...stored.value, portalUrl: evil }, stored.version, auditEvent(staff, settingsTarget, 'settings.updated', new Date(), {}));
    await h.seed('P-1');
    await sendInvitation(h.deps, staff, 'P-1');
    await h.seed('P-2');
    await requestEmailMatch(h.request, { email: 'p-2@example.test', sourceIp: '198.51.100.7' });
    expect(h.mail.sent).toHaveLength(2);
    for (const mail of h.mail.sent) {
      expect(mail.text + mail.html).not.toContain('evil');
      expect(mail.text).toContain('https://portal.maple.test/portal/');
    }
  });
});
