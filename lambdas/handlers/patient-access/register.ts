import { patientDeps, registerLeaseStore, settingsDefaults } from '../../adapters/deps.ts';
import { registerWithTemporaryPassword } from '../../domain/patient-access.ts';
import { requireInvitePermission } from '../../domain/permissions.ts';
import { readSettings } from '../../domain/settings.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { patientAccessRoutes } from '../../../lib/routes/patient-access.ts';

export const handler = defineHandler(patientAccessRoutes, 'register-patient', async ({ params, principal, sourceIp }) => {
  const deps = patientDeps();
  requireInvitePermission({ id: principal.staffId, staff: principal, sourceIp });
  const { settings } = await readSettings({ store: deps.store, defaults: settingsDefaults() });
  const result = await registerWithTemporaryPassword({ ...deps, leases: registerLeaseStore() }, { id: principal.staffId, sourceIp }, params.patientId, settings.temporaryPasswordHours);
  return { status: 201, body: result };
});
