import { mailer, patientLogins, recordStore, settingsDefaults, systemClock } from '../../adapters/deps.ts';
import { syncLoginEnabled } from '../../domain/patient-access.ts';
import { editRecord } from '../../domain/portal-record.ts';
import { defineHandler } from '../../http/staff-handler.ts';
import { portalRecordRoutes } from '../../../lib/routes/portal-record.ts';

export const handler = defineHandler(portalRecordRoutes, 'portal-record-put', async ({ params, headers, body, principal, sourceIp, log }) => {
  const { record } = await editRecord(
    { store: recordStore(), clock: systemClock, mailer: mailer(), settingsDefaults: settingsDefaults(), warn: (msg, fields) => log.warn(msg, fields) },
    { id: principal.staffId, sourceIp, staff: principal },
    params.patientId,
    body,
    headers['if-match'],
  );
  // Re-enabling access must re-enable the login in the pool too (revoke disabled it there).
  if (body.accessEnabled !== undefined) await syncLoginEnabled({ logins: patientLogins() }, record);
  return { status: 200, body: record, headers: { etag: `"${record.version}"` } };
});
