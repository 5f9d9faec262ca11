/**
 * Practice settings: stored overrides on top of defaults from the deployment's configuration.
 *
 * `portalUrl` is the deployment's (PORTAL_URL, from `cdk deploy` context or the local stack) and
 * read-only here (issue 13 item 5): every emailed link is built from it, so an admin session that
 * could change it could turn every invitation and reset email into phishing. A PUT carrying a
 * different one is 400 naming it; a value stored by an earlier version is ignored on every read.
 */
import { Settings, type SettingsChange } from '../schemas/settings.ts';
import { auditEvent, settingsTarget, type Actor } from './audit.ts';
import { DomainError, retryOnConflict } from './errors.ts';
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
    emailMatch: false,
    patientReset: true,
    autoInvite: false,
    phoneCodes: false,
  };
}

export interface SettingsDeps {
  store: RecordStore;
  clock: Clock;
  defaults: SettingsDefaults;
  /** Whether the deployment can text (issue 17): phoneCodes cannot be turned on without it. */
  sms?: { configured: boolean; reason?: string };
}

export async function readSettings({ store, defaults }: Omit<SettingsDeps, 'clock'>): Promise<{ settings: Settings; version: number }> {
  const stored = await store.getSettings();
  // Never a stored portalUrl: the deployment's, always (see the top of this file).
  const { portalUrl: _ignored, ...overrides } = stored?.value ?? {};
  // Before emailMatch had a setting of its own (issue 15), selfRegistration turned the email-match
  // method on: a practice that had it on keeps the method until an admin sets emailMatch.
  if (overrides.emailMatch === undefined && overrides.selfRegistration === true) overrides.emailMatch = true;
  // Stored values were valid when written; re-parse so a default that changed shape cannot leak through.
  const settings = Settings.parse({ ...defaultSettings(defaults), ...overrides });
  return { settings, version: stored?.version ?? 0 };
}

const portalUrlReadOnly = () =>
  new DomainError('bad-request', 'validation-error', 'The request is not valid.', {
    errors: [{ path: 'body.portalUrl', message: "is read-only: it is the deployment's portal URL (cdk deploy context), not a setting" }],
  });

const phoneCodesUnavailable = (reason: string) =>
  new DomainError('bad-request', 'validation-error', 'The request is not valid.', {
    errors: [{ path: 'body.phoneCodes', message: `cannot be turned on: ${reason}` }],
  });

export async function changeSettings(deps: SettingsDeps, actor: Actor, change: SettingsChange): Promise<Settings> {
  // The same value (a client sending back what GET answered) is accepted and changes nothing.
  if (change.portalUrl !== undefined && change.portalUrl !== deps.defaults.portalUrl) throw portalUrlReadOnly();
  if (change.phoneCodes === true && !deps.sms?.configured) throw phoneCodesUnavailable(deps.sms?.reason ?? 'this deployment cannot send text messages');
  return retryOnConflict(async () => {
    const { settings, version } = await readSettings(deps);
    const { notifyEmail, ...rest } = change;
    const next: Settings = { ...settings, ...rest, portalUrl: deps.defaults.portalUrl };
    // null clears the practice inbox; the item is written whole, so the key is gone from it too.
    if (notifyEmail === null) delete next.notifyEmail;
    else if (notifyEmail !== undefined) next.notifyEmail = notifyEmail;
    const changed = (Object.keys(change) as (keyof Settings)[]).filter((k) => settings[k] !== next[k]);
    if (changed.length === 0) return settings;
    const audit = auditEvent(actor, settingsTarget, 'settings.updated', deps.clock(), { fields: changed });
    // The portalUrl saved with it is the deployment's, and ignored when read (readSettings).
    await deps.store.saveSettings(next, version, audit);
    return next;
  });
}
