/**
 * Practice settings (issue 20: the rules of lambdas/domain/settings.ts). portalUrl is the
 * deployment's and read-only (issue 13 item 5: an admin session must not turn every emailed link
 * into phishing); phone codes need a deployment that can text (issue 17); every change is audited
 * by field name (rule 18) and a PUT that changes nothing writes nothing; notifyEmail null clears it.
 */
import { describe, expect, it } from 'vitest';
import { auditEvent, settingsTarget } from '../../../lambdas/domain/audit.ts';
import { changeSettings, defaultSettings, readSettings } from '../../../lambdas/domain/settings.ts';
import { fixedClock, memoryStore } from '../../support/memory-store.ts';

const actor = { id: 'boss', sourceIp: '198.51.100.1' };
const defaults = { practiceName: 'Riverside Clinic', portalUrl: 'https://portal.example.test' };
const evil = 'https://portal-login.evil.test';
const setup = (sms?: { configured: boolean; reason?: string }) => {
  const mem = memoryStore();
  return { mem, deps: { store: mem.store, defaults, clock: fixedClock(), ...(sms ? { sms } : {}) } };
};
const store = async (mem: ReturnType<typeof memoryStore>, value: Record<string, unknown>) =>
  mem.store.saveSettings(value as never, 0, auditEvent(actor, settingsTarget, 'settings.updated', new Date()));

describe('reading settings', () => {
  it('the defaults: every method off but the patient reset, the deployment name and URL; version 0 before anything is stored', async () => {
    const { mem, deps } = setup();
    const read = await readSettings(deps);
    expect(read).toEqual({ settings: defaultSettings(defaults), version: 0 });
    expect(read.settings).toMatchObject({ selfRegistration: false, emailMatch: false, patientReset: true, autoInvite: false, phoneCodes: false });
    expect(read.settings).not.toHaveProperty('notifyEmail');
    expect(mem.audit).toEqual([]);
  });

  it('stored overrides on top of the defaults, with the stored version; never a stored portalUrl', async () => {
    const { mem, deps } = setup();
    await store(mem, { invitationDays: 3, patientReset: false, portalUrl: evil });
    const read = await readSettings(deps);
    expect(read.version).toBe(1);
    expect(read.settings).toMatchObject({ invitationDays: 3, patientReset: false, portalUrl: defaults.portalUrl, resetMinutes: 60 });
  });

  it('issue 15: a practice that had selfRegistration on before emailMatch existed keeps the email-match method, until emailMatch is set', async () => {
    const legacy = setup();
    await store(legacy.mem, { selfRegistration: true });
    expect((await readSettings(legacy.deps)).settings).toMatchObject({ selfRegistration: true, emailMatch: true });
    const chosen = setup();
    await store(chosen.mem, { selfRegistration: true, emailMatch: false });
    expect((await readSettings(chosen.deps)).settings).toMatchObject({ selfRegistration: true, emailMatch: false });
    const off = setup();
    await store(off.mem, { selfRegistration: false });
    expect((await readSettings(off.deps)).settings.emailMatch).toBe(false);
  });

  it('a stored value that is no longer valid is not passed on', async () => {
    const { mem, deps } = setup();
    await store(mem, { resetMinutes: 100_000 });
    await expect(readSettings(deps)).rejects.toThrow();
  });
});

describe('changing settings', () => {
  it('issue 13 item 5: another portalUrl is 400 naming body.portalUrl, and nothing is written', async () => {
    const { mem, deps } = setup();
    await expect(changeSettings(deps, actor, { portalUrl: evil })).rejects.toMatchObject({
      kind: 'bad-request',
      code: 'validation-error',
      extra: { errors: [{ path: 'body.portalUrl' }] },
    });
    expect(mem.audit).toEqual([]);
    // The deployment's own value is accepted and is no change.
    await expect(changeSettings(deps, actor, { portalUrl: defaults.portalUrl })).resolves.toMatchObject({ portalUrl: defaults.portalUrl });
    expect(mem.audit).toEqual([]);
    expect(await mem.store.getSettings()).toBeUndefined();
  });

  it('issue 17: phone codes cannot be turned on where the deployment cannot text (400 naming body.phoneCodes, with the reason)', async () => {
    for (const sms of [undefined, { configured: false }, { configured: false, reason: 'no origination number' }]) {
      const { mem, deps } = setup(sms);
      const refused = await changeSettings(deps, actor, { phoneCodes: true }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ kind: 'bad-request', code: 'validation-error', extra: { errors: [{ path: 'body.phoneCodes' }] } });
      const message = (refused as { extra: { errors: { message: string }[] } }).extra.errors[0]!.message;
      expect(message).toContain(sms?.reason ?? 'cannot send text messages');
      expect(mem.audit).toEqual([]);
    }
    // Turning it off needs nothing; turning it on where texting works is allowed and audited.
    const off = setup();
    await expect(changeSettings(off.deps, actor, { phoneCodes: false })).resolves.toMatchObject({ phoneCodes: false });
    const on = setup({ configured: true });
    await expect(changeSettings(on.deps, actor, { phoneCodes: true })).resolves.toMatchObject({ phoneCodes: true });
    expect(on.mem.audit.map((a) => [a.action, a.actor, a.target, a.detail])).toEqual([['settings.updated', 'boss', 'settings', { fields: ['phoneCodes'] }]]);
  });

  it('rule 18: the audit names exactly the fields that changed, by name; what is sent unchanged is not named', async () => {
    const { mem, deps } = setup();
    const next = await changeSettings(deps, actor, { resetMinutes: 30, invitationDays: 14, practiceName: 'Riverside Clinic' });
    expect(next.resetMinutes).toBe(30);
    expect(mem.audit).toHaveLength(1);
    expect(mem.audit[0]).toMatchObject({ action: 'settings.updated', target: 'settings', at: '2026-11-21T10:00:00.000Z', detail: { fields: ['resetMinutes'] } });
    expect((await readSettings(deps)).settings.resetMinutes).toBe(30);
  });

  it('a change that changes nothing writes nothing and answers the settings as they are', async () => {
    const { mem, deps } = setup();
    await changeSettings(deps, actor, { resetMinutes: 30 });
    const same = await changeSettings(deps, actor, { resetMinutes: 30, autoInvite: false });
    expect(same).toEqual({ ...defaultSettings(defaults), resetMinutes: 30 });
    expect(mem.audit).toHaveLength(1);
    expect((await mem.store.getSettings())!.version).toBe(1);
  });

  it('the saved item carries the deployment portalUrl, and notifyEmail: set, kept when not sent, cleared by null', async () => {
    const { mem, deps } = setup();
    await store(mem, { ...defaultSettings(defaults), portalUrl: evil });
    const set = await changeSettings(deps, actor, { notifyEmail: 'desk@practice.test' });
    expect(set).toMatchObject({ notifyEmail: 'desk@practice.test', portalUrl: defaults.portalUrl });
    expect((await mem.store.getSettings())!.value).toMatchObject({ notifyEmail: 'desk@practice.test', portalUrl: defaults.portalUrl });
    const kept = await changeSettings(deps, actor, { lobbyMinutes: 30 });
    expect(kept.notifyEmail).toBe('desk@practice.test');
    const cleared = await changeSettings(deps, actor, { notifyEmail: null });
    expect(cleared).not.toHaveProperty('notifyEmail');
    expect((await mem.store.getSettings())!.value).not.toHaveProperty('notifyEmail');
    expect(mem.audit.map((a) => a.detail.fields)).toEqual([undefined, ['notifyEmail'], ['lobbyMinutes'], ['notifyEmail']]);
    // Clearing what is not set is no change.
    await changeSettings(deps, actor, { notifyEmail: null });
    expect(mem.audit).toHaveLength(4);
  });

  it('a lost race is run again on the winner\'s settings: neither edit is lost', async () => {
    const { mem, deps } = setup();
    let once = true;
    mem.onBeforeSave(() => {
      if (!once) return;
      once = false;
      void store(mem, { ...defaultSettings(defaults), lobbyMinutes: 15 });
    });
    const next = await changeSettings(deps, actor, { resetMinutes: 30 });
    expect(next).toMatchObject({ resetMinutes: 30, lobbyMinutes: 15 });
  });
});
