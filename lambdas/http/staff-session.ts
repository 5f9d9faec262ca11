/**
 * The staff record a staff token is checked against on every request (rule 30): one GetItem on
 * `STAFF#<sub>`, consistent read (grant `staff:session`). Its own module so that handler tests,
 * whose DynamoDB mocks answer only what each test is about, can stand in for it in one place
 * (test/handlers/env.ts); test/unit/http/staff-auth.test.ts runs the real one.
 */
import { recordStore } from '../adapters/deps.ts';
import type { StaffRecord } from '../domain/staff-admin.ts';

// A function declaration, not a const arrow: the arrow was built at module load, so its one mutant
// was static (ignored by Stryker's ignoreStatic) and this rule went unscored (issue 20).
export function staffRecordOf(sub: string): Promise<StaffRecord | undefined> {
  return recordStore().getStaff(sub);
}
