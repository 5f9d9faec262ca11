import { describe, expect, it } from 'vitest';
import { changePermissions, defaultPermissions, readPermissions } from '../../../lambdas/domain/permissions.ts';
import { changeSettings, readSettings } from '../../../lambdas/domain/settings.ts';
import type { StaffDirectory } from '../../../lambdas/domain/ports.ts';
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
      patientReset: true,
      autoInvite: false,
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

describe('staff permissions', () => {
  const directory = (known: string[]): StaffDirectory => ({
    signIn: async () => {
      throw new Error('not used');
    },
    exists: async (id) => known.includes(id),
  });

  it('default to invite allowed and auto-invite off for a known staff user', async () => {
    expect(await readPermissions({ store: memoryStore().store, staff: directory(['frontdesk']) }, 'frontdesk')).toEqual(defaultPermissions);
  });

  it('are not-found for a user the staff pool does not have, and cannot be set for one', async () => {
    const mem = memoryStore();
    await expect(readPermissions({ store: mem.store, staff: directory([]) }, 'ghost')).rejects.toMatchObject({ kind: 'not-found' });
    await expect(changePermissions({ store: mem.store, staff: directory([]), clock: fixedClock() }, actor, 'ghost', { canInvite: false })).rejects.toMatchObject({ kind: 'not-found' });
    expect(mem.audit).toHaveLength(0);
  });

  it('an admin can take invite permission away; the change is audited against the staff user', async () => {
    const mem = memoryStore();
    const deps = { store: mem.store, staff: directory(['frontdesk']), clock: fixedClock() };
    expect(await changePermissions(deps, actor, 'frontdesk', { canInvite: false })).toEqual({ canInvite: false, autoInvite: false });
    expect(await readPermissions(deps, 'frontdesk')).toEqual({ canInvite: false, autoInvite: false });
    expect(mem.audit[0]).toMatchObject({ target: 'staff:frontdesk', action: 'staff-permissions.updated', detail: { fields: ['canInvite'] } });
  });
});
