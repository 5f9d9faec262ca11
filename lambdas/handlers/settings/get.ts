import { recordStore, settingsDefaults } from '../../adapters/deps.ts';
import { readSettings } from '../../domain/settings.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('settings-get', async () => {
  const { settings } = await readSettings({ store: recordStore(), defaults: settingsDefaults() });
  return { status: 200, body: settings };
});
