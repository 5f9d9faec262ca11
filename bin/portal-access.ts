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
import { parseStackContext, refusePlaceholders } from '../lib/stack/context.ts';
import { nagPacks } from '../lib/stack/nag-packs.ts';
import { PortalAccessStack } from '../lib/stack/portal-stack.ts';

const app = new App();
const context = (() => {
  try {
    const parsed = parseStackContext((name) => app.node.tryGetContext(name));
    refusePlaceholders(parsed);
    return parsed;
  } catch (err) {
    // The message says what to change; a stack trace would only bury it.
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
})();

new PortalAccessStack(app, context.env ? `PortalAccess-${context.env}` : 'PortalAccess', {
  description: `portal-access${context.env ? ` (${context.env})` : ''}: patient portal access service (API, functions, user pools, tables)`,
  senderEmail: context.senderEmail,
  ...(context.portalUrl ? { portalUrl: context.portalUrl } : {}),
  ...(context.practiceName ? { practiceName: context.practiceName } : {}),
  ...(context.alarmEmail ? { alarmEmail: context.alarmEmail } : {}),
  ...(context.env ? { environmentName: context.env } : {}),
  ...(context.reservedConcurrency ? { reservedConcurrency: context.reservedConcurrency } : {}),
  ...(context.accountConcurrencyLimit ? { accountConcurrencyLimit: context.accountConcurrencyLimit } : {}),
  ...(context.domainName && context.certificateArn ? { domain: { domainName: context.domainName, certificateArn: context.certificateArn } } : {}),
  ...(context.hostedZoneId
    ? { hostedZone: { hostedZoneId: context.hostedZoneId, ...(context.hostedZoneName ? { zoneName: context.hostedZoneName } : {}) } }
    : {}),
  ...(context.mailDomain ? { mailDomain: context.mailDomain } : {}),
  ...(context.mailIdentity ? { mailIdentity: context.mailIdentity } : {}),
  ...(context.apiGatewayAccountRole ? { apiGatewayAccountRole: context.apiGatewayAccountRole } : {}),
  // Environment-agnostic unless the CLI knows the target account and region.
  ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
    ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
    : {}),
});

// AwsSolutions, HIPAA Security and NIST 800-53 R5 (lib/stack/nag-packs.ts, the list the cdk test runs).
Validations.of(app).addPlugins(...nagPacks(app));
