/**
 * One route's Lambda function with the project's defaults: Node.js 24 on arm64, bundled locally
 * with esbuild (AWS SDK included), X-Ray tracing, its own KMS-encrypted log group, and its own
 * role whose only policy is a customer-managed policy built from the route's grants.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { openApiDocument } from '../../lambdas/openapi/document.ts';
import type { Route } from '../routes.ts';

/** The repository root: route entries are relative to it. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const functionDefaults = {
  runtime: Runtime.NODEJS_24_X,
  esbuildTarget: 'node24',
  architecture: Architecture.ARM_64,
  memorySize: 512,
  timeout: Duration.seconds(10),
} as const;

/** What a function is: a route of the table, or another entry point (a Cognito trigger). */
export type FunctionSpec = Pick<Route, 'id' | 'entry' | 'grants' | 'content'> & { readonly describe?: string };

const describeSpec = (spec: FunctionSpec) =>
  spec.describe ?? ('method' in spec && 'path' in spec ? `${String(spec.method)} ${String(spec.path)}` : spec.entry);

/** Copies the pages' browser files next to the bundle (see lambdas/pages/assets.ts). */
export const copyStaticFiles: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => [`cp -R "${path.join(inputDir, 'lambdas', 'pages', 'static')}" "${path.join(outputDir, 'static')}"`],
};

/** The file GET /openapi.json serves, beside its bundle (lambdas/handlers/openapi/get.ts reads it). */
export const openApiDocumentFile = 'openapi.json';

let documentOnDisk: string | undefined;

/**
 * Writes the OpenAPI document beside the bundle of GET /openapi.json: generated here, at build
 * time, from the same route table and schemas, so that function bundles none of them (issue 16).
 */
export const writeOpenApiDocument: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (_inputDir, outputDir) => {
    if (!documentOnDisk) {
      documentOnDisk = path.join(mkdtempSync(path.join(tmpdir(), 'portal-openapi-')), openApiDocumentFile);
      writeFileSync(documentOnDisk, JSON.stringify(openApiDocument()));
    }
    return [`cp "${documentOnDisk}" "${path.join(outputDir, openApiDocumentFile)}"`];
  },
};

/** What a function reads beside its bundle: the browser files, or the OpenAPI document. */
export function bundledFiles(route: Pick<Route, 'id' | 'content'>): ICommandHooks | undefined {
  if (route.content === 'asset') return copyStaticFiles;
  if (route.id === 'openapi') return writeOpenApiDocument;
  return undefined;
}

export interface PortalFunctionProps {
  readonly route: FunctionSpec;
  readonly environment: Readonly<Record<string, string>>;
  /** The route's permissions (from its grants); logging and tracing are added here. */
  readonly statements: readonly PolicyStatement[];
  readonly logKey: IKey;
  readonly logRetention: RetentionDays;
  /**
   * Caps one function's share of the account's concurrency (and the cost of a flood). None by
   * default: reserving takes from the account's pool, which on a new account is too small.
   */
  readonly reservedConcurrency?: number;
}

/**
 * One log group for every function of the stack (Lambda's logging config names it; each log
 * stream still starts with its function's name). A group per function cost a resource each and
 * pushed the stack past CloudFormation's 500-resource limit.
 */
function sharedFunctionLogs(scope: Construct, key: IKey, retention: RetentionDays): LogGroup {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild('FunctionLogs');
  if (existing instanceof LogGroup) return existing;
  return new LogGroup(stack, 'FunctionLogs', { encryptionKey: key, retention, removalPolicy: RemovalPolicy.RETAIN });
}

export class PortalFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly policy: ManagedPolicy;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: PortalFunctionProps) {
    super(scope, id);
    const { route } = props;

    this.logGroup = sharedFunctionLogs(this, props.logKey, props.logRetention);

    // A customer-managed policy rather than the role's inline default policy (HIPAA
    // IAMNoInlinePolicy), and no AWSLambdaBasicExecutionRole (AwsSolutions-IAM4): logging is
    // scoped to this function's own log group.
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: `portal-access ${route.id}: grants ${route.grants.length ? route.grants.join(', ') : '(none)'}`,
      statements: [
        ...props.statements,
        new PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
        // X-Ray's write actions have no resource-level permissions: '*' is the only valid resource.
        new PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `portal-access ${route.id} (${describeSpec(route)})`,
      managedPolicies: [this.policy],
    });
    // CDK would add tracing permissions to an inline default policy; the managed policy above
    // already has them, so the function gets a role it cannot add statements to.
    const role: IRole = this.role.withoutPolicyUpdates();

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(repoRoot, route.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      description: `portal-access ${route.id}: ${describeSpec(route)} (${route.entry})`,
      runtime: functionDefaults.runtime,
      architecture: functionDefaults.architecture,
      memorySize: functionDefaults.memorySize,
      timeout: functionDefaults.timeout,
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      role,
      ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      environment: { ...props.environment },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: false,
        target: functionDefaults.esbuildTarget,
        format: OutputFormat.CJS,
        // Prefer the ES module builds (the AWS SDK ships both): smaller bundles after tree-shaking.
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: the version we test against is the version that runs.
        externalModules: [],
        // CJS output has no import.meta; modules that locate files beside themselves (the pages'
        // browser files) then resolve inside the function's own folder.
        define: { 'import.meta.url': JSON.stringify('file:///var/task/index.js') },
        // The browser files route serves lambdas/pages/static, read from $LAMBDA_TASK_ROOT/static;
        // GET /openapi.json serves $LAMBDA_TASK_ROOT/openapi.json.
        ...(bundledFiles(route) ? { commandHooks: bundledFiles(route) } : {}),
      },
    });
  }
}
