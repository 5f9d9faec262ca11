import { recordStore, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { clearSignInLock } from '../../domain/patient-access.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { patientAccessRoutes } from '../../../lib/routes/patient-access.ts';

export const handler = defineHandler(patientAccessRoutes, 'portal-sign-in-unlock', async ({ params, principal, sourceIp }) => {
  const record = await clearSignInLock(
    { store: recordStore(), throttle: signInThrottle(), clock: systemClock },
    { id: principal.staffId, staff: principal, sourceIp },
    params.patientId,
  );
  return { status: 200, body: record, headers: { etag: `"${record.version}"` } };
});
