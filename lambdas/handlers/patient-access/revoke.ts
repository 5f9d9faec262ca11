import { patientDeps } from '../../adapters/deps.ts';
import { revokeAccess } from '../../domain/patient-access.ts';
import { defineHandler } from '../../http/handler.ts';

export const handler = defineHandler('patient-revoke', async ({ params, principal, sourceIp }) => {
  const record = await revokeAccess(patientDeps(), { id: principal.staffId, sourceIp }, params.patientId);
  return { status: 200, body: record };
});
