/**
 * The local stack: DynamoDB Local, cognito-local and aws-ses-v2-local as child processes, the
 * tables, user pools and seeded staff logins in them, and the local API server in this process.
 * Used by `npm start` (start.ts) and by the integration tests' global setup.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { homedir } from 'node:os';
import { join, parse, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { auditTable, recordsTable } from '../data/tables.ts';
import { localCredentials, localRegion } from './aws.ts';
import {
  cognitoClient,
  cognitoUrl,
  ensureStaffUser,
  ensureUserPools,
  startCognito,
  type SeedUser,
  type UserPools,
} from './cognito.ts';
import { checkJava, dynamoClient, ensureTables, startDynamoDb } from './dynamodb.ts';
import { mailboxUrl, startMailbox, startMailEvents } from './mailbox.ts';
import { assertPortsFree, HOST, resolvePorts, type Ports } from './ports.ts';
import { ensureDir, killNow, reapOrphans, stopChild, writePidFile, type Child, type Launch } from './processes.ts';
import { keepTotpSecrets, seedUsers } from './seed.ts';
import { startCognitoMfaProxy } from './cognito-mfa.ts';
import { seedStaffRecords } from './staff-records.ts';
import { ensurePinKeyFile } from './pin-key.ts';
import { startSmsOutbox } from './sms-outbox.ts';
import { testClock } from './test-clock.ts';
import { localStaffOrigins, staffOriginsFromEnv } from '../../lambdas/http/cors.ts';

export const RECORDS_TABLE = 'portal-records';
export const AUDIT_TABLE = 'portal-audit';
export const SENDER_EMAIL = 'portal@localhost.test';

/** The content of dataDir/stack.json (the fields of api.md, plus auditTableName). */
export interface StackInfo {
  apiUrl: string;
  mailboxUrl: string;
  dynamodbEndpoint: string;
  /** cognito-local: the tokens' issuer base and JWKS. */
  cognitoEndpoint: string;
  /**
   * Where the handlers' Cognito calls go: cognito-mfa.ts in front of cognito-local, playing AWS's
   * MFA_SETUP for the staff client. Anything that signs staff in the way the API does uses this.
   */
  cognitoApiEndpoint: string;
  staffUserPoolId: string;
  staffClientId: string;
  patientUserPoolId: string;
  patientClientId: string;
  tableName: string;
  auditTableName: string;
  /** The seeded logins; `totpSecret` is the base32 secret of their authenticator (RFC 6238, SHA-1, 6 digits, 30 s). */
  admin: { username: string; password: string; totpSecret: string };
  staff: { username: string; password: string; totpSecret: string };
  /** The SMS outbox (lib/local/sms-outbox.ts): GET answers {messages: [{to, body, at}]}. */
  smsOutboxUrl?: string;
}

export interface Progress {
  step: string;
  detail: string;
  /** How long this step took. */
  ms: number;
  /** Time since startLocalStack was called. */
  atMs: number;
}

export interface StackOptions {
  /** Where data, logs and stack.json live; default `.local` (relative to the working directory). */
  dataDir?: string;
  /** Explicit ports; otherwise PORT, MAILBOX_PORT, DYNAMODB_PORT, COGNITO_PORT, else 3000/8005/8000/9229. */
  ports?: Partial<Ports>;
  /** Delete dataDir first (`npm start -- --fresh`). */
  fresh?: boolean;
  /**
   * Test mode: the handlers run on a test clock (lib/local/test-clock.ts) that PUT /__test/clock
   * moves. Without it they run on the real time, as in Lambda.
   */
  testClock?: boolean;
  onProgress?: (progress: Progress) => void;
}

export interface LocalStack {
  info: StackInfo;
  stackFile: string;
  dataDir: string;
  ports: Ports;
  startupMs: number;
  /** Stops the API server and every child process; safe to call twice. */
  stop(): Promise<void>;
}

export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const started = performance.now();
  const dataDir = resolve(options.dataDir ?? '.local');
  const ports = resolvePorts(options.ports);
  const children: Child[] = [];
  const closers: (() => Promise<void>)[] = [];
  let server: Server | undefined;

  const step: Step = async (name, work, detail) => {
    const begun = performance.now();
    const result = await work();
    const now = performance.now();
    options.onProgress?.({ step: name, detail: detail(result), ms: now - begun, atMs: now - started });
    return result;
  };

  const killOnExit = () => children.forEach(killNow);
  process.on('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', killOnExit);
      if (server) await closeServer(server);
      await Promise.all(closers.map((close) => close()));
      await Promise.all(children.map((c) => stopChild(c)));
      await rm(join(dataDir, 'pids.json'), { force: true });
    })());

  try {
    const reaped = await reapOrphans(dataDir);
    if (reaped.length > 0) {
      options.onProgress?.({ step: 'clean-up', detail: `ended ${reaped.join(', ')} left by an earlier run`, ms: 0, atMs: 0 });
    }
    await Promise.all([
      step('java', checkJava, (version) => `Java ${version}`),
      step('ports', () => assertPortsFree(ports), () => `${Object.values(ports).join(', ')} free`),
    ]);
    if (options.fresh) await wipe(dataDir);
    const logDir = await ensureDir(join(dataDir, 'logs'));
    const launch: Launch = {
      logDir,
      track: (child) => {
        children.push(child);
        writePidFile(dataDir, children);
      },
    };
    const previous = readStackFile(dataDir);
    const apiUrl = `http://${HOST}:${ports.api}`;

    // Three independent pipelines; Java's start-up is the long pole. allSettled: on a failure,
    // wait until the others have spawned what they spawn, so stop() ends it all.
    const [dynamo, cognito, mailbox] = await Promise.allSettled([
      startDatabase(launch, ports, dataDir, step),
      startIdentity(launch, ports, dataDir, previous, step, closers),
      step('mailbox', () => startMailbox(launch, ports.mailbox, dataDir), () => `aws-ses-v2-local ${mailboxUrl(ports.mailbox)}`),
    ]);
    for (const outcome of [dynamo, cognito, mailbox]) if (outcome.status === 'rejected') throw outcome.reason;
    const { pools, users: [admin, staff], proxyUrl } = (cognito as PromiseFulfilledResult<Identity>).value;

    const info: StackInfo = {
      apiUrl,
      mailboxUrl: mailboxUrl(ports.mailbox),
      dynamodbEndpoint: dynamoUrl(ports),
      cognitoEndpoint: cognitoUrl(ports.cognito),
      cognitoApiEndpoint: proxyUrl,
      ...pools,
      tableName: RECORDS_TABLE,
      auditTableName: AUDIT_TABLE,
      admin: { username: admin.username, password: admin.password, totpSecret: admin.totpSecret! },
      staff: { username: staff.username, password: staff.password, totpSecret: staff.totpSecret! },
    };
    setHandlerEnvironment(info);
    // SES's delivery events for the simulator addresses (mailbox.ts): the handlers send through it.
    const { systemClock } = await import('../../lambdas/adapters/deps.ts');
    const mailEvents = await startMailEvents({
      upstream: info.mailboxUrl,
      deliver: async (event) => (await import('../../lambdas/handlers/delivery/events.ts')).handler(event),
      clock: systemClock,
      onError: (name) => console.warn(`warning: a local delivery event failed (${name})`),
    });
    closers.push(mailEvents.close);
    process.env.SES_ENDPOINT = mailEvents.url;
    process.env.PIN_KEY_FILE = ensurePinKeyFile(dataDir);
    // Phone codes (issue 17): texts go to the SMS outbox through the handlers' own SMS adapter.
    const smsOutbox = await startSmsOutbox({ port: Number(process.env.SMS_OUTBOX_PORT ?? 0), clock: systemClock });
    closers.push(smsOutbox.close);
    info.smsOutboxUrl = smsOutbox.url;
    process.env.SMS_ENDPOINT = smsOutbox.url;
    process.env.SMS_ORIGINATION_IDENTITY ??= 'local-sms-outbox';
    await seedStaffRecords([admin, staff]);
    server = await step('api', () => startApi(ports.api, options.testClock ?? false), () => `API ${apiUrl}`);
    const stackFile = join(dataDir, 'stack.json');
    await writeFile(stackFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    return { info, stackFile, dataDir, ports, startupMs: performance.now() - started, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const dynamoUrl = (ports: Ports) => `http://${HOST}:${ports.dynamodb}`;

type Step = <T>(name: string, work: () => Promise<T>, detail: (result: T) => string) => Promise<T>;

async function startDatabase(launch: Launch, ports: Ports, dataDir: string, step: Step): Promise<void> {
  const dbPath = await ensureDir(join(dataDir, 'dynamodb'));
  const apiOrigin = `http://${HOST}:${ports.api}`;
  await step('dynamodb', () => startDynamoDb(launch, ports.dynamodb, dbPath, apiOrigin), () => `DynamoDB Local ${dynamoUrl(ports)}`);
  await step('tables', () => createTables(ports), () => `${RECORDS_TABLE}, ${AUDIT_TABLE}`);
}

interface Identity {
  pools: UserPools;
  /** With their totpSecret set. */
  users: [SeedUser, SeedUser];
  proxyUrl: string;
}

async function startIdentity(
  launch: Launch,
  ports: Ports,
  dataDir: string,
  previous: Partial<UserPools> | undefined,
  step: Step,
  closers: (() => Promise<void>)[],
): Promise<Identity> {
  const dir = await ensureDir(join(dataDir, 'cognito'));
  await step('cognito', () => startCognito(launch, ports.cognito, dir), () => `cognito-local ${cognitoUrl(ports.cognito)}`);
  const client = cognitoClient(cognitoUrl(ports.cognito));
  try {
    const pools = await step(
      'user pools',
      () => ensureUserPools(client, previous),
      (p) => `staff ${p.staffUserPoolId}, patients ${p.patientUserPoolId}`,
    );
    const users = await seedUsers(dataDir);
    const secrets = await step(
      'staff users',
      () => Promise.all(users.map((u) => ensureStaffUser(client, { poolId: pools.staffUserPoolId, clientId: pools.staffClientId }, u))),
      () => users.map((u) => `${u.username} (${u.group}, TOTP enrolled)`).join(', '),
    );
    users.forEach((u, i) => (u.totpSecret = secrets[i]));
    await keepTotpSecrets(dataDir, { admin: secrets[0]!, staff: secrets[1]! });
    const proxy = await step(
      'mfa setup',
      () => startCognitoMfaProxy({ upstream: cognitoUrl(ports.cognito), staffClientId: pools.staffClientId, patientClientId: pools.patientClientId }),
      (p) => `MFA_SETUP for the staff client ${p.url}`,
    );
    closers.push(proxy.close);
    return { pools, users, proxyUrl: proxy.url };
  } finally {
    client.destroy();
  }
}

async function createTables(ports: Ports): Promise<void> {
  const client = dynamoClient(dynamoUrl(ports));
  try {
    await ensureTables(client, [
      { name: RECORDS_TABLE, definition: recordsTable },
      { name: AUDIT_TABLE, definition: auditTable },
    ]);
  } finally {
    client.destroy();
  }
}

/** What lambdas/config.ts reads, pointed at the emulators; dummy credentials so the SDK never looks for real ones. */
function setHandlerEnvironment(info: StackInfo): void {
  const env = process.env;
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  Object.assign(env, {
    AWS_REGION: localRegion,
    AWS_DEFAULT_REGION: localRegion,
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    RECORDS_TABLE: info.tableName,
    AUDIT_TABLE: info.auditTableName,
    STAFF_POOL_ID: info.staffUserPoolId,
    STAFF_CLIENT_ID: info.staffClientId,
    PATIENT_POOL_ID: info.patientUserPoolId,
    PATIENT_CLIENT_ID: info.patientClientId,
    // Tokens' iss is `${COGNITO_ISSUER_BASE}/${poolId}` (cognito-local's TokenConfig.IssuerDomain).
    COGNITO_ISSUER_BASE: info.cognitoEndpoint,
    PORTAL_URL: info.apiUrl,
    DYNAMODB_ENDPOINT: info.dynamodbEndpoint,
    COGNITO_ENDPOINT: info.cognitoApiEndpoint,
    SES_ENDPOINT: info.mailboxUrl,
  });
  env.SENDER_EMAIL ??= SENDER_EMAIL;
  // api.md: locally the staff web client's origins default to a dev server on :5173 (checked here).
  env.STAFF_ORIGINS = localStaffOrigins(env);
}

/** The server and the handlers are imported only now, after the environment is complete. */
async function startApi(port: number, useTestClock: boolean): Promise<Server> {
  const { config } = await import('../../lambdas/config.ts');
  config(); // a missing or malformed variable fails the start, not the first request
  const { routes } = await import('../routes.ts');
  const { createApiServer, preloadHandlers } = await import('./server.ts');
  // The handlers' clock is passed in here: the test clock in test mode, else the real time.
  const { setClock } = await import('../../lambdas/adapters/deps.ts');
  const clock = useTestClock ? testClock() : undefined;
  setClock(clock?.now);
  const staffOrigins = staffOriginsFromEnv(); // set by setHandlerEnvironment: what the handlers read too
  const broken = await preloadHandlers(routes);
  if (broken.length > 0) {
    // Not fatal: the other routes still work and these answer 500 until fixed.
    console.warn(`warning: these handler modules failed to load:\n  ${broken.join('\n  ')}`);
  }
  const server = createApiServer(routes, { testClock: clock, staffOrigins });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, HOST, () => resolveListen());
  });
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

function readStackFile(dataDir: string): Partial<UserPools> | undefined {
  const file = join(dataDir, 'stack.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<UserPools>;
  } catch {
    return undefined;
  }
}

/** `--fresh` deletes dataDir; refuse anything that looks like a mistake. */
async function wipe(dataDir: string): Promise<void> {
  const forbidden = [parse(dataDir).root, homedir(), process.cwd()].map((p) => resolve(p));
  if (forbidden.includes(dataDir)) throw new Error(`refusing to delete ${dataDir} for --fresh; choose a dedicated data dir`);
  await rm(dataDir, { recursive: true, force: true });
}
