import { recordStore, settingsDefaults, systemClock } from '../../adapters/deps.ts';
import { changeSettings } from '../../domain/settings.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { settingsRoutes } from '../../../lib/routes/settings.ts';
import { smsAvailability } from '../../adapters/sms-sender.ts';

export const handler = defineHandler(settingsRoutes, 'settings-put', async ({ body, principal, sourceIp }) => {
  const settings = await changeSettings(
    { store: recordStore(), defaults: settingsDefaults(), clock: systemClock, sms: smsAvailability() },
    { id: principal.staffId, sourceIp },
    body,
  );
  return { status: 200, body: settings };
});
