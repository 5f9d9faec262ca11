// Environment for handler tests: the names the functions read (lambdas/config.ts), with values
// that reach nothing. Every AWS call in these tests goes to aws-sdk-client-mock.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.RECORDS_TABLE = 'records-test';
process.env.AUDIT_TABLE = 'audit-test';
process.env.STAFF_POOL_ID = 'us-east-1_staff';
process.env.STAFF_CLIENT_ID = 'staffclient';
process.env.PATIENT_POOL_ID = 'us-east-1_patients';
process.env.PATIENT_CLIENT_ID = 'patientclient';
process.env.PORTAL_URL = 'https://portal.example.test';
process.env.SENDER_EMAIL = 'portal@example.test';
process.env.LOG_LEVEL = 'silent';
// The integration project's global setup sets the local stack's endpoints in the parent process,
// which workers inherit: handler tests must never see them (mocks answer, not emulators).
for (const name of ['COGNITO_ISSUER_BASE', 'DYNAMODB_ENDPOINT', 'COGNITO_ENDPOINT', 'SES_ENDPOINT', 'SES_CONFIGURATION_SET', 'PRACTICE_NAME', 'PIN_KEY_FILE']) {
  delete process.env[name];
}

// Every staff token is checked against its staff record (rule 30, lambdas/http/auth.ts). Handler
// tests mock DynamoDB for what each test is about, so here the record read answers an enabled
// record with the default permissions for any login; a test that is about the record sets its
// own with `vi.mocked(staffRecordOf).mockResolvedValue(…)` (reset after each test), and
// test/unit/http/staff-auth.test.ts runs the real read.
import { afterEach, vi } from 'vitest';
import { staffRecordOf } from '../../lambdas/http/staff-session.ts';
import { enabledStaffRecord } from '../support/staff-records.ts';

vi.mock('../../lambdas/http/staff-session.ts', () => ({ staffRecordOf: vi.fn() }));
const defaultRecord = async (sub: string) => enabledStaffRecord(sub);
vi.mocked(staffRecordOf).mockImplementation(defaultRecord);
afterEach(() => {
  vi.mocked(staffRecordOf).mockReset().mockImplementation(defaultRecord);
});
