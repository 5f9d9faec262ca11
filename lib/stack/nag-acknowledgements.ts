/**
 * Every cdk-nag finding this stack accepts instead of fixing, with the reason. Each entry is
 * applied (cdk-nag v3: `Validations.of(construct).acknowledge`) to the narrowest constructs it
 * concerns, never to the whole stack. The README lists them from here; a test checks each
 * reason is specific (>= 30 characters) and that nothing else is left unacknowledged.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { PortalAccessStack } from './portal-stack.ts';

export interface NagAcknowledgement {
  /** Rule id, or rule id with finding, e.g. 'AwsSolutions-IAM5[Resource::*]'. */
  readonly id: string;
  /** Where it applies, in words (for the README). */
  readonly appliesTo: string;
  readonly reason: string;
  readonly targets: (stack: PortalAccessStack) => readonly IConstruct[];
}

const functions = (s: PortalAccessStack) => [...s.functions.values(), ...s.triggers.values()].map((f) => f.function);
const methods = (s: PortalAccessStack) => s.api.api.methods;
/** Functions that reserve no concurrency (all of them unless -c reservedConcurrency). */
const unreserved = (s: PortalAccessStack) =>
  functions(s).filter((f) => (f.node.defaultChild as { reservedConcurrentExecutions?: number }).reservedConcurrentExecutions === undefined);
const stage = (s: PortalAccessStack) => [s.api.api.deploymentStage];
/** The one function EventBridge invokes asynchronously (SES delivery events), and all the others. */
const deliveryEvents = (s: PortalAccessStack) => [s.triggers.get('delivery-events')].filter((f) => f !== undefined).map((f) => f.function);
const synchronous = (s: PortalAccessStack) => functions(s).filter((f) => !deliveryEvents(s).includes(f));
const deliveryEventsNoDlq =
  'The delivery-events function gets SES events from an EventBridge rule whose target retries for 24 hours, then Lambda retries twice; it is idempotent and keeps only the newest event per record, so an event lost after all that leaves the record showing the previous delivery state until the next event of that email or a resend, and holds no data a dead-letter queue would need to keep.';

// HIPAA Security and NIST 800-53 R5 share these four rules (the same checks, different control
// ids), so each pair carries one reason.
const noStageCache =
  'Caching is off on purpose: answers are per caller and carry PHI and tokens, and a cached answer could outlive a revoke (rule 17); with no cache there is no cached data to encrypt.';
const noStageClientCertificate =
  'A stage client certificate authenticates API Gateway to HTTP backends; every integration here is a Lambda proxy invoked through the signed Lambda API, so a certificate would have nothing to authenticate. Clients reach the API over TLS 1.2+ only.';
const noDeadLetterQueue =
  'The functions are invoked synchronously, by API Gateway or (the token trigger) by Cognito; a dead-letter queue only receives failed asynchronous invocations, so it would stay empty. Failures reach the caller as 5xx and raise the Api5xx alarm.';
const noReservedConcurrency =
  'Reserved concurrency is opt-in (-c reservedConcurrency with accountConcurrencyLimit): reserving for every function takes functions x n + 100 from the account quota, which on a new account is lower than that, and the first deploy would fail. Load is capped before Lambda by stage throttling per method and the WAF per-IP rate rules, and the Throttles alarm fires if the pool runs out.';
const noVpc =
  'The functions reach only AWS APIs (DynamoDB, Cognito, SES, KMS) over TLS with IAM-signed requests and there are no VPC resources; a VPC would add NAT or endpoints to the path without protecting any data. The boundary is API Gateway with WAF, and each role names its own resources.';

export const nagAcknowledgements: readonly NagAcknowledgement[] = [
  // --- Cognito ---
  {
    id: 'AwsSolutions-COG1',
    appliesTo: 'both user pools',
    reason:
      'Security rule 2: no composition rules (NIST SP 800-63B-4, OWASP ASVS 5.0 6.2.5). Length >= 15 is enforced here; common-password and username/email checks run in the service at every place a password is set.',
    targets: (s) => [s.identity.patientPool, s.identity.staffPool],
  },
  {
    id: 'AwsSolutions-COG2',
    appliesTo: 'patient user pool',
    reason:
      'Patients sign in single-factor (NIST 800-63B AAL1: password >= 15 characters, blocklist, per-account throttling, Cognito compromised-credential detection); api.md defines no patient MFA step and many patients have no authenticator. The staff pool requires TOTP.',
    targets: (s) => [s.identity.patientPool],
  },
  {
    id: 'AwsSolutions-COG4',
    appliesTo: 'every API method',
    reason:
      'Tokens are verified inside each function against the Cognito JWKS and against our own revocation record, because a revoke must refuse earlier-issued tokens at once (security rule 17), which a Cognito authorizer cannot do; public routes (sign-in, health, links) take no token.',
    targets: methods,
  },
  // --- API Gateway ---
  {
    id: 'AwsSolutions-APIG4',
    appliesTo: 'every API method',
    reason:
      'Authorization is done in the functions: JWT verified against the pool JWKS plus the revocation record (rule 17) and the route caller rule; public routes (sign-in, health, invitation links) need no authorization by design.',
    targets: methods,
  },
  {
    id: 'AwsSolutions-APIG2',
    appliesTo: 'the REST API',
    reason:
      'Requests are validated in each function with the zod schemas of lib/routes.ts, which answer 400 problem+json per api.md; a gateway model would be a second copy of every shape and would answer in a different format.',
    targets: (s) => [s.api.api],
  },
  {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    appliesTo: 'the account-level API Gateway CloudWatch role',
    reason:
      'API Gateway execution logging (APIG6, HIPAA execution logging) needs the account-level CloudWatch role; AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy made for exactly that role and nothing else uses it.',
    // Absent with -c apiGatewayAccountRole=existing (another stack set the account's role).
    targets: (s) => [s.api.api.node.tryFindChild('CloudWatchRole')].filter((c) => c !== undefined),
  },
  { id: 'HIPAA.Security-APIGWCacheEnabledAndEncrypted', appliesTo: 'the API stage', reason: noStageCache, targets: stage },
  { id: 'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', appliesTo: 'the API stage', reason: noStageCache, targets: stage },
  { id: 'HIPAA.Security-APIGWSSLEnabled', appliesTo: 'the API stage', reason: noStageClientCertificate, targets: stage },
  { id: 'NIST.800.53.R5-APIGWSSLEnabled', appliesTo: 'the API stage', reason: noStageClientCertificate, targets: stage },
  // --- Lambda ---
  {
    id: 'AwsSolutions-IAM5[Resource::*]',
    appliesTo: "each function's managed policy (X-Ray statement only)",
    reason:
      'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so * is their only valid resource; every other statement names its table, index, key, log group or pool (a test checks that).',
    targets: (s) => [...s.functions.values(), ...s.triggers.values()].map((f) => f.policy),
  },
  { id: 'HIPAA.Security-LambdaDLQ', appliesTo: 'every function invoked synchronously', reason: noDeadLetterQueue, targets: synchronous },
  { id: 'NIST.800.53.R5-LambdaDLQ', appliesTo: 'every function invoked synchronously', reason: noDeadLetterQueue, targets: synchronous },
  { id: 'HIPAA.Security-LambdaDLQ', appliesTo: 'the delivery-events function', reason: deliveryEventsNoDlq, targets: deliveryEvents },
  { id: 'NIST.800.53.R5-LambdaDLQ', appliesTo: 'the delivery-events function', reason: deliveryEventsNoDlq, targets: deliveryEvents },
  {
    id: 'HIPAA.Security-LambdaConcurrency',
    appliesTo: 'every function without -c reservedConcurrency',
    reason: noReservedConcurrency,
    targets: (s) => unreserved(s),
  },
  {
    id: 'NIST.800.53.R5-LambdaConcurrency',
    appliesTo: 'every function without -c reservedConcurrency',
    reason: noReservedConcurrency,
    targets: (s) => unreserved(s),
  },
  { id: 'HIPAA.Security-LambdaInsideVPC', appliesTo: 'every function', reason: noVpc, targets: functions },
  { id: 'NIST.800.53.R5-LambdaInsideVPC', appliesTo: 'every function', reason: noVpc, targets: functions },
  // --- Backup ---
  {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    appliesTo: 'the AWS Backup selection role',
    reason:
      'AWS Backup assumes this role to back up the two tables; AWSBackupServiceRolePolicyForBackup is the AWS-maintained policy for that service role and is kept current by AWS as Backup features change.',
    targets: (s) => [s.data.backupSelection],
  },
];

export function applyNagAcknowledgements(stack: PortalAccessStack): void {
  for (const ack of nagAcknowledgements) {
    for (const target of ack.targets(stack)) {
      Validations.of(target).acknowledge({ id: ack.id, reason: ack.reason });
    }
  }
}

