/** Practice settings: stored overrides on top of defaults from the deployment's configuration. */
import { Settings, type SettingsChange } from '../schemas/settings.ts';
import { auditEvent, settingsTarget, type Actor } from './audit.ts';
import { retryOnConflict } from './errors.ts';
import type { Clock, RecordStore } from './ports.ts';

export interface SettingsDefaults {
  practiceName: string;
  portalUrl: string;
}

export function defaultSettings({ practiceName, portalUrl }: SettingsDefaults): Settings {
  return {
    practiceName,
    portalUrl,
    invitationDays: 14,
    temporaryPasswordHours: 72,
    lobbyMinutes: 60,
    resetMinutes: 60,
    selfRegistration: false,
    patientReset: true,
    autoInvite: false,
  };
}

export interface SettingsDeps {
  store: RecordStore;
  clock: Clock;
  defaults: SettingsDefaults;
}

export async function readSettings({ store, defaults }: Omit<SettingsDeps, 'clock'>): Promise<{ settings: Settings; version: number }> {
  const stored = await store.getSettings();
  // Stored values were valid when written; re-parse so a default that changed shape cannot leak through.
  const settings = Settings.parse({ ...defaultSettings(defaults), ...stored?.value });
  return { settings, version: stored?.version ?? 0 };
}

export async function changeSettings(deps: SettingsDeps, actor: Actor, change: SettingsChange): Promise<Settings> {
  return retryOnConflict(async () => {
    const { settings, version } = await readSettings(deps);
    const next: Settings = { ...settings, ...change };
    const changed = (Object.keys(change) as (keyof Settings)[]).filter((k) => settings[k] !== next[k]);
    if (changed.length === 0) return settings;
    const audit = auditEvent(actor, settingsTarget, 'settings.updated', deps.clock(), { fields: changed });
    await deps.store.saveSettings(next, version, audit);
    return next;
  });
}
