import { describe, expect, it } from 'vitest';
import { changeSettings, readSettings } from '../../../lambdas/domain/settings.ts';
import { SettingsChange } from '../../../lambdas/schemas/settings.ts';
import { fixedClock, memoryStore } from '../../support/memory-store.ts';

const actor = { id: 'boss', sourceIp: '198.51.100.1' };
const defaults = { practiceName: 'Riverside Clinic', portalUrl: 'https://portal.example.test' };

describe('settings', () => {
  it('start from the documented defaults', async () => {
    const { settings } = await readSettings({ store: memoryStore().store, defaults });
    expect(settings).toEqual({
      practiceName: 'Riverside Clinic',
      portalUrl: 'https://portal.example.test',
      invitationDays: 14,
      temporaryPasswordHours: 72,
      lobbyMinutes: 60,
      resetMinutes: 60,
      selfRegistration: false,
      emailMatch: false,
      patientReset: true,
      autoInvite: false,
      phoneCodes: false,
    });
  });

  it('a partial change keeps the other values and is audited by field name', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, defaults, clock: fixedClock() };
    await changeSettings(deps, actor, { resetMinutes: 30 });
    const next = await changeSettings(deps, actor, { autoInvite: true });
    expect(next).toMatchObject({ resetMinutes: 30, autoInvite: true, invitationDays: 14 });
    expect(mem.audit.map((a) => a.detail.fields)).toEqual([['resetMinutes'], ['autoInvite']]);
  });
});

// Staff permissions (on the staff record, keyed by the login's sub): test/unit/domain/staff-admin.test.ts.

describe('notifyEmail can be cleared (issue 19: a practice inbox that is no longer wanted)', () => {

  it('PUT {notifyEmail: null} removes it, keeps the rest, and is audited by field name', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, defaults, clock: fixedClock() };
    await changeSettings(deps, actor, { notifyEmail: 'desk@example.test', resetMinutes: 30 });
    const next = await changeSettings(deps, actor, { notifyEmail: null });
    expect(next).not.toHaveProperty('notifyEmail');
    expect(next.resetMinutes).toBe(30);
    const { settings } = await readSettings({ store: mem.store, defaults });
    expect(settings).not.toHaveProperty('notifyEmail');
    expect(mem.audit.at(-1)?.detail).toEqual({ fields: ['notifyEmail'] });
  });

  it('null is taken only where a setting may be absent: a required one stays required', () => {
    expect(SettingsChange.safeParse({ notifyEmail: null }).success).toBe(true);
    expect(SettingsChange.safeParse({ practiceName: null }).success).toBe(false);
    expect(SettingsChange.safeParse({ notifyEmail: 'not an address' }).success).toBe(false);
  });
});
