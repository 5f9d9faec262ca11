import { patientDeps } from '../../adapters/deps.ts';
import { revokeAccess } from '../../domain/patient-access.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { patientAccessRoutes } from '../../../lib/routes/patient-access.ts';

export const handler = defineHandler(patientAccessRoutes, 'patient-revoke', async ({ params, principal, sourceIp }) => {
  const record = await revokeAccess(patientDeps(), { id: principal.staffId, sourceIp }, params.patientId);
  return { status: 200, body: record };
});
