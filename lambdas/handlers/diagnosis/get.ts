import { recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { readDiagnosis } from '../../domain/diagnosis.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { diagnosisRoutes } from '../../../lib/routes/diagnosis.ts';

export const handler = defineHandler(diagnosisRoutes, 'portal-diagnosis', async ({ params }) => {
  const diagnosis = await readDiagnosis({ store: recordStore(), throttle: signInThrottle(), clock: systemClock, settingsDefaults: settingsDefaults() }, params.patientId);
  return { status: 200, body: diagnosis };
});
