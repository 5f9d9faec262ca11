/**
 * `npm start` (`npm start -- --fresh` to begin with empty data): runs the local stack until
 * Ctrl-C. Ports: PORT (API, 3000), MAILBOX_PORT (8005), DYNAMODB_PORT (8000), COGNITO_PORT (9229).
 * Seeded passwords: PORTAL_ADMIN_PASSWORD / PORTAL_STAFF_PASSWORD, else generated once.
 * STAFF_ORIGINS: the staff web client's origins that get CORS answers (comma-separated; default
 * http://localhost:5173,http://127.0.0.1:5173; empty for none).
 */
import { relative } from 'node:path';
import { staffOriginsFromEnv } from '../../lambdas/http/cors.ts';
import { startLocalStack, type LocalStack, type Progress } from './stack.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function printProgress(p: Progress): void {
  console.log(`  ✓ ${p.step.padEnd(12)} ${p.detail.padEnd(56)} ${seconds(p.ms).padStart(7)}  (at ${seconds(p.atMs)})`);
}

function printReady(stack: LocalStack): void {
  const { info } = stack;
  console.log(`
Local stack ready in ${seconds(stack.startupMs)}

  API             ${info.apiUrl}            (OpenAPI: ${info.apiUrl}/openapi.json)
  Mailbox         ${info.mailboxUrl}            (every email sent; JSON at ${info.mailboxUrl}/store)
  SMS outbox      ${info.smsOutboxUrl}      (every text sent: phone codes; SMS_OUTBOX_PORT)
  DynamoDB Local  ${info.dynamodbEndpoint}     tables ${info.tableName}, ${info.auditTableName}
  cognito-local   ${info.cognitoEndpoint}     staff pool ${info.staffUserPoolId}, patient pool ${info.patientUserPoolId}

  Staff logins    admin  ${info.admin.username} / ${info.admin.password}
                  staff  ${info.staff.username} / ${info.staff.password}
                  TOTP: add admin.totpSecret / staff.totpSecret from stack.json to an authenticator app

  Staff web client CORS origins (STAFF_ORIGINS): ${staffOriginsFromEnv().join(', ') || 'none'}

  stack.json      ${relative(process.cwd(), stack.stackFile) || stack.stackFile}
  logs            ${relative(process.cwd(), stack.dataDir) || '.'}/logs/

Ctrl-C stops everything.`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--fresh');
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown.join(' ')}; usage: npm start [-- --fresh]`);
    process.exit(2);
  }
  console.log(`Starting the local stack${args.includes('--fresh') ? ' from empty data (--fresh)' : ''}…`);
  let stack: LocalStack | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return; // a second Ctrl-C while stopping: stop() is already under way
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    // Mid start-up there is no stack yet: exiting runs the stack's exit hook, which kills the children.
    if (!stack) process.exit(130);
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    stack = await startLocalStack({ fresh: args.includes('--fresh'), onProgress: printProgress });
  } catch (err) {
    console.error(`\n${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  printReady(stack);
}

await main();
