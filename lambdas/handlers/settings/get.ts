import { recordStore, settingsDefaults } from '../../adapters/deps.ts';
import { readSettings } from '../../domain/settings.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { settingsRoutes } from '../../../lib/routes/settings.ts';
import { smsAvailability } from '../../adapters/sms-sender.ts';

export const handler = defineHandler(settingsRoutes, 'settings-get', async () => {
  const { settings } = await readSettings({ store: recordStore(), defaults: settingsDefaults() });
  // Read-only, never stored: whether this deployment lets phoneCodes be on, and why not (issue 17).
  const sms = smsAvailability();
  return { status: 200, body: { ...settings, phoneCodesAvailable: sms.configured, ...(sms.reason ? { phoneCodesUnavailableReason: sms.reason } : {}) } };
});
