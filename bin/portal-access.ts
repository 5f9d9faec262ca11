/**
 * The CDK app. Context (cdk.json or -c name=value; the README's deploy runbook lists each with
 * its default): senderEmail (required), portalUrl, practiceName, env, alarmEmail, domainName +
 * certificateArn, hostedZoneId (+ hostedZoneName), mailDomain, mailIdentity,
 * apiGatewayAccountRole, reservedConcurrency + accountConcurrencyLimit, allowPlaceholders.
 *
 * Placeholder values (example.com, .example, .test, ...) are refused unless
 * -c allowPlaceholders=true (lib/stack/context.ts: refusePlaceholders says why the app, not a
 * CloudFormation rule, is where that happens). cdk.json does not set it, so a bare `cdk deploy`
 * stops before anything reaches AWS; `npm run synth` and the tests set it.
 *
 * cdk-nag v3 runs as CDK policy-validation plugins (not Aspects): `cdk synth` prints the report
 * and fails on any unacknowledged error.
 */
import { App, Validations } from 'aws-cdk-lib';
import { portalStackFromContext } from '../lib/stack/app.ts';
import { nagPacks } from '../lib/stack/nag-packs.ts';

const app = new App();
try {
  portalStackFromContext(app, {
    // Environment-agnostic unless the CLI knows the target account and region.
    ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
      : {}),
  });
} catch (err) {
  // Context problems (a placeholder, a missing value, reserved concurrency that does not fit):
  // the message says what to change; a stack trace would only bury it.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

// AwsSolutions, HIPAA Security and NIST 800-53 R5 (lib/stack/nag-packs.ts, the list the cdk test runs).
Validations.of(app).addPlugins(...nagPacks(app));
