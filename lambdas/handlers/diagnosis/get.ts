import { recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { readDiagnosis } from '../../domain/diagnosis.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('portal-diagnosis', async ({ params }) => {
  const diagnosis = await readDiagnosis({ store: recordStore(), throttle: signInThrottle(), clock: systemClock, settingsDefaults: settingsDefaults() }, params.patientId);
  return { status: 200, body: diagnosis };
});
