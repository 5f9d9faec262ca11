/**
 * The CDK app. Context: senderEmail and portalUrl (required), practiceName, env, alarmEmail,
 * reservedConcurrency. cdk.json carries example.com defaults so `npx cdk synth` works without
 * arguments; a deploy must override them (the app warns while they are example values).
 *
 * cdk-nag v3 runs as CDK policy-validation plugins (not Aspects): `cdk synth` prints the report
 * and fails on any unacknowledged error.
 */
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { isExampleValue, parseStackContext } from '../lib/stack/context.ts';
import { nagPacks } from '../lib/stack/nag-packs.ts';
import { PortalAccessStack } from '../lib/stack/portal-stack.ts';

const app = new App();
const context = parseStackContext((name) => app.node.tryGetContext(name));

const stack = new PortalAccessStack(app, context.env ? `PortalAccess-${context.env}` : 'PortalAccess', {
  description: 'portal-access: patient portal access service (API, functions, user pools, tables)',
  senderEmail: context.senderEmail,
  portalUrl: context.portalUrl,
  ...(context.practiceName ? { practiceName: context.practiceName } : {}),
  ...(context.alarmEmail ? { alarmEmail: context.alarmEmail } : {}),
  ...(context.reservedConcurrency ? { reservedConcurrency: context.reservedConcurrency } : {}),
  // Environment-agnostic unless the CLI knows the target account and region.
  ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
    ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
    : {}),
});

for (const name of ['senderEmail', 'portalUrl'] as const) {
  if (isExampleValue(context[name])) {
    Annotations.of(stack).addWarningV2(
      `portal-access:example-${name}`,
      `${name} is the cdk.json example value (${context[name]}); deploy with -c ${name}=<real value>.`,
    );
  }
}

// AwsSolutions, HIPAA Security and NIST 800-53 R5 (lib/stack/nag-packs.ts, the list the cdk test runs).
Validations.of(app).addPlugins(...nagPacks(app));
