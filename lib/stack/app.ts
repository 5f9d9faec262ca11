/**
 * From the app's context to the stack: what bin/portal-access.ts runs, and what the cdk tests
 * run with their own context (so the tests exercise the same wiring `cdk deploy` does).
 */
import type { App } from 'aws-cdk-lib';
import { parseStackContext, refusePlaceholders, type StackContext } from './context.ts';
import { PortalAccessStack, type PortalAccessStackProps } from './portal-stack.ts';

/** PortalAccess, or PortalAccess-<env>: what `--stack` of the staff CLI and smoke check names. */
export const stackNameFor = (env: string | undefined): string => (env ? `PortalAccess-${env}` : 'PortalAccess');

export function stackPropsFrom(c: StackContext): PortalAccessStackProps {
  return {
    description: `portal-access${c.env ? ` (${c.env})` : ''}: patient portal access service (API, functions, user pools, tables)`,
    senderEmail: c.senderEmail,
    ...(c.portalUrl ? { portalUrl: c.portalUrl } : {}),
    ...(c.practiceName ? { practiceName: c.practiceName } : {}),
    ...(c.alarmEmail ? { alarmEmail: c.alarmEmail } : {}),
    ...(c.staffOrigins?.length ? { staffOrigins: c.staffOrigins } : {}),
    ...(c.env ? { environmentName: c.env } : {}),
    ...(c.reservedConcurrency ? { reservedConcurrency: c.reservedConcurrency } : {}),
    ...(c.accountConcurrencyLimit ? { accountConcurrencyLimit: c.accountConcurrencyLimit } : {}),
    ...(c.domainName && c.certificateArn ? { domain: { domainName: c.domainName, certificateArn: c.certificateArn } } : {}),
    ...(c.hostedZoneId ? { hostedZone: { hostedZoneId: c.hostedZoneId, ...(c.hostedZoneName ? { zoneName: c.hostedZoneName } : {}) } } : {}),
    ...(c.mailDomain ? { mailDomain: c.mailDomain } : {}),
    ...(c.mailIdentity ? { mailIdentity: c.mailIdentity } : {}),
    ...(c.apiGatewayAccountRole ? { apiGatewayAccountRole: c.apiGatewayAccountRole } : {}),
    ...(c.smsOriginationIdentity && c.smsMonthlySpendLimit ? { sms: { originationIdentity: c.smsOriginationIdentity, monthlySpendLimit: c.smsMonthlySpendLimit } } : {}),
  };
}

/** Reads and checks the context (placeholders refused unless allowed), then builds the stack. */
export function portalStackFromContext(app: App, extra: Pick<PortalAccessStackProps, 'env'> = {}): PortalAccessStack {
  const context = parseStackContext((name) => app.node.tryGetContext(name));
  refusePlaceholders(context);
  return new PortalAccessStack(app, stackNameFor(context.env), { ...stackPropsFrom(context), ...extra });
}
