/**
 * The seeded staff logins' staff records (lambdas/domain/staff-admin.ts): every staff token is
 * checked against its record, so the seeded admin and staff need one, as a login made by
 * POST /staff or `npm run staff -- create` has. An existing record is left as it is (a seeded
 * user an admin disabled stays disabled across restarts). Runs after the handlers' environment
 * is set, through the same adapters the functions use.
 */
import type { SeedUser } from './cognito.ts';

export async function seedStaffRecords(users: readonly SeedUser[]): Promise<void> {
  const [{ dynamoStore }, { cognitoStaffPool }, { ensureStaffRecord }] = await Promise.all([
    import('../../lambdas/adapters/dynamo-store.ts'),
    import('../../lambdas/adapters/staff-admin.ts'),
    import('../../lambdas/domain/staff-admin.ts'),
  ]);
  const deps = { store: dynamoStore(), pool: cognitoStaffPool(), clock: () => new Date() };
  for (const user of users) {
    await ensureStaffRecord(deps, { id: 'local-stack', sourceIp: '127.0.0.1' }, user.username, user.group === 'admin' ? 'admin' : 'staff');
  }
}
