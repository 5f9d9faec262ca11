/**
 * Staff logins from the command line, for devops with AWS credentials (issue 12 item 4): the first
 * admin after a deploy, and the same actions as the console's Staff page.
 *
 *   npm run staff -- create alice --email alice@example.org --admin [--stack PortalAccess-prod]
 *   npm run staff -- list | disable <name> | enable <name> | mfa-reset <name>   [--stack … | --local]
 *
 * `--stack` (default PortalAccess) reads the deployed stack's outputs StaffUserPoolId,
 * RecordsTableName and AuditTableName with the caller's AWS credentials and region; `--local`
 * reads .local/stack.json of `npm start`. Every action runs the same domain function as the API
 * route (lambdas/domain/staff-admin.ts), audited with `cli:<os user>` as the actor.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { StaffAdminDeps, StaffCaller } from '../lambdas/domain/staff-admin.ts';

const usage = `Usage: npm run staff -- <command> [options]

Commands:
  create <username> --email <address> [--admin]   a new staff login (role staff, or admin with --admin);
                                                  prints its temporary password once
  list                                            every staff login with role, state and authenticator
  disable <username>                              refuses the user's sessions at once and their sign-in
  enable <username>                               lets the user sign in again
  mfa-reset <username>                            a lost authenticator: the user enrols again at sign-in

Where:
  --stack <name>   the deployed CloudFormation stack (default PortalAccess; PortalAccess-<env> for -c env=<env>),
                   read with your AWS credentials and region (AWS_PROFILE, AWS_REGION)
  --local          the local stack of \`npm start\` (.local/stack.json)
  --data-dir <dir> with --local: the local stack's data directory, if not .local
`;

class UsageError extends Error {}

interface Target {
  region: string;
  staffUserPoolId: string;
  recordsTable: string;
  auditTable: string;
  apiUrl?: string;
  local?: { dynamodbEndpoint: string; cognitoEndpoint: string };
}

async function stackTarget(stackName: string): Promise<Target> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({});
  const region = await client.config.region();
  let outputs: Record<string, string>;
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries((out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'ValidationError') throw new UsageError(`No stack named ${stackName} in this account and region (${region}). Give --stack PortalAccess-<env>, or set AWS_REGION.`);
    if (/Credential|ExpiredToken|UnrecognizedClient|InvalidClientTokenId/i.test(name)) throw new UsageError(`AWS refused the credentials (${name}). Sign in (aws sso login, AWS_PROFILE) and try again.`);
    throw err;
  } finally {
    client.destroy();
  }
  const need = (key: string) => {
    const value = outputs[key];
    if (!value) throw new UsageError(`Stack ${stackName} has no output ${key}: deploy the current version of portal-access first.`);
    return value;
  };
  return {
    region,
    staffUserPoolId: need('StaffUserPoolId'),
    recordsTable: need('RecordsTableName'),
    auditTable: need('AuditTableName'),
    ...(outputs.ApiUrl ? { apiUrl: outputs.ApiUrl } : {}),
  };
}

function localTarget(dataDir = join(process.cwd(), '.local')): Target {
  const file = join(dataDir, 'stack.json');
  let info: Record<string, string>;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    throw new UsageError(`No local stack: ${file} is missing. Start it with \`npm start\` first.`);
  }
  return {
    region: 'us-east-1',
    staffUserPoolId: info.staffUserPoolId!,
    recordsTable: info.tableName!,
    auditTable: info.auditTableName!,
    ...(info.apiUrl ? { apiUrl: info.apiUrl } : {}),
    local: { dynamodbEndpoint: info.dynamodbEndpoint!, cognitoEndpoint: info.cognitoEndpoint! },
  };
}

/** The functions' adapters, pointed at the target (they read their configuration from the environment). */
async function depsFor(target: Target): Promise<StaffAdminDeps> {
  Object.assign(process.env, {
    AWS_REGION: target.region,
    RECORDS_TABLE: target.recordsTable,
    AUDIT_TABLE: target.auditTable,
    STAFF_POOL_ID: target.staffUserPoolId,
    // Required by the functions' configuration, unused by staff administration.
    STAFF_CLIENT_ID: 'unused-by-the-staff-cli',
    PATIENT_POOL_ID: 'unused-by-the-staff-cli',
    PATIENT_CLIENT_ID: 'unused-by-the-staff-cli',
    PORTAL_URL: target.apiUrl ?? 'https://unused.invalid',
    SENDER_EMAIL: 'unused@unused.invalid',
  });
  if (target.local) {
    const { localCredentials } = await import('../lib/local/aws.ts');
    Object.assign(process.env, {
      DYNAMODB_ENDPOINT: target.local.dynamodbEndpoint,
      COGNITO_ENDPOINT: target.local.cognitoEndpoint,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
  }
  const [{ dynamoStore }, { cognitoStaffPool }] = await Promise.all([import('../lambdas/adapters/dynamo-store.ts'), import('../lambdas/adapters/staff-admin.ts')]);
  return { store: dynamoStore(), pool: cognitoStaffPool(), clock: () => new Date() };
}

export async function main(argv: string[], print: (line: string) => void = (l) => console.log(l)): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        email: { type: 'string' },
        admin: { type: 'boolean' },
        stack: { type: 'string' },
        local: { type: 'boolean' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, name, ...extra] = positionals;
  if (values.help || !command) throw new UsageError('');
  if (extra.length) throw new UsageError(`Unexpected ${extra.join(' ')}.`);
  if (values.local && values.stack) throw new UsageError('Give --stack or --local, not both.');
  const needsName = ['create', 'disable', 'enable', 'mfa-reset'];
  if (!['list', ...needsName].includes(command)) throw new UsageError(`Unknown command ${command}.`);
  if (needsName.includes(command) && !name) throw new UsageError(`${command} needs a username.`);
  if (command === 'list' && name) throw new UsageError('list takes no username.');
  if (command !== 'create' && (values.email || values.admin)) throw new UsageError('--email and --admin go with create only.');

  const { StaffCreate } = await import('../lambdas/schemas/staff-admin.ts');
  const input =
    command === 'create' ? StaffCreate.safeParse({ username: name, email: values.email, role: values.admin ? 'admin' : 'staff' }) : undefined;
  if (input && !input.success) {
    throw new UsageError(input.error.issues.map((i) => `${i.path.join('.') === 'email' ? '--email' : i.path.join('.')}: ${i.message}`).join('; '));
  }

  if (values['data-dir'] && !values.local) throw new UsageError('--data-dir goes with --local.');
  const target = values.local ? localTarget(values['data-dir']) : await stackTarget(values.stack ?? 'PortalAccess');
  const deps = await depsFor(target);
  const domain = await import('../lambdas/domain/staff-admin.ts');
  // No login of the pool has this id, so an admin's own-account guard never matches the CLI.
  const actor: StaffCaller = { id: `cli:${userInfo().username}`, sub: 'cli', sourceIp: 'cli' };
  const where = values.local ? 'the local stack' : `stack ${values.stack ?? 'PortalAccess'}`;

  switch (command) {
    case 'create': {
      const made = await domain.createStaff(deps, actor, input!.data!);
      print(`Created ${made.username} (${input!.data!.role}) in ${where}.`);
      print(`Temporary password (shown once, never emailed): ${made.temporaryPassword}`);
      print(`It expires at ${made.expiresAt}.`);
      print(
        `Next: give it to ${made.username} in person. They sign in at ${target.apiUrl ? `${target.apiUrl.replace(/\/$/, '')}/console` : 'the console'}, ` +
          'choose their own password, and enrol an authenticator app (TOTP) from the QR code.',
      );
      return;
    }
    case 'list': {
      const { items } = await domain.listStaff(deps);
      if (!items.length) print(`No staff logins in ${where}.`);
      for (const u of items) {
        print(
          `${u.username.padEnd(24)} ${(u.roles.join(',') || '-').padEnd(12)} ${(u.enabled ? 'enabled' : 'disabled').padEnd(9)} ` +
            `${u.mfaEnrolled ? 'totp' : 'no-totp'}  ${u.permissions.canInvite ? 'can-invite' : 'no-invite'}  ${u.email ?? ''}`,
        );
      }
      return;
    }
    case 'disable':
    case 'enable': {
      const out = await domain.changeStaff(deps, actor, name!, { enabled: command === 'enable' });
      print(`${out.username} is ${out.enabled ? 'enabled: they can sign in again (earlier sessions stay ended)' : 'disabled: every session ended, sign-in refused'}.`);
      return;
    }
    case 'mfa-reset': {
      const out = await domain.resetStaffMfa(deps, actor, name!);
      print(`${out.username}'s authenticator is removed and their sessions ended: they enrol a new one at their next sign-in.`);
      return;
    }
  }
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof UsageError) {
        if (err.message) console.error(`error: ${err.message}\n`);
        console.error(usage);
        process.exit(2);
      }
      // Domain refusals (taken, not found, own account) are meant for people: say them plainly.
      if (err instanceof Error && err.name === 'DomainError') {
        console.error(`error: ${err.message}`);
        process.exit(1);
      }
      console.error(`error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      process.exit(1);
    },
  );
}
