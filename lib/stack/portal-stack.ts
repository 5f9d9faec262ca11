/**
 * The portal-access stack: data (KMS key, tables, backups), identity (two user pools), mail
 * (SES), one function per route of lib/routes.ts with a least-privilege role from its grants,
 * the REST API with WAF in front, and alarms. cdk-nag findings that are accepted rather than
 * fixed are acknowledged in nag-acknowledgements.ts, each with its reason.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { PublicHostedZone, type IPublicHostedZone } from 'aws-cdk-lib/aws-route53';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { recordsTable } from '../data/tables.ts';
import { grantsOf, routes as routeTable, type Route } from '../routes.ts';
import { defaultStageName, PortalApi } from './api.ts';
import { PortalData } from './data.ts';
import { statementsFor, tokenTriggerStatements, type GrantTargets } from './grants.ts';
import { PortalIdentity } from './identity.ts';
import { PortalMail } from './mail.ts';
import { PortalMonitoring } from './monitoring.ts';
import { applyNagAcknowledgements } from './nag-acknowledgements.ts';
import { PortalFunction } from './portal-function.ts';
import { LambdaVersion, UserPoolOperation } from 'aws-cdk-lib/aws-cognito';
import { PinKey } from './pin-key.ts';
import { LobbyKey } from './lobby-key.ts';
import { PhoneCodeKey } from './phone-code-key.ts';
import { originationArn, SmsSpendLimit, type SmsProps } from './sms-settings.ts';
import { checkReservedConcurrency } from './context.ts';
import { answersCors } from '../../lambdas/http/cors.ts';

export interface PortalAccessStackProps extends StackProps {
  /** SES sender address (an address identity unless mailDomain is given). */
  readonly senderEmail: string;
  /**
   * Base URL of the portal pages; links in emails are built from it (rule 14). Default:
   * https://<domain.domainName>, else the API's own URL with its stage.
   */
  readonly portalUrl?: string;
  readonly practiceName?: string;
  /** Optional address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** `-c env`: names the API stage (default `prod`). */
  readonly environmentName?: string;
  /** The staff web client's origins (checked by context.ts): CORS on the staff routes; none without. */
  readonly staffOrigins?: readonly string[];
  /** Reserved concurrency per function: none by default. */
  readonly reservedConcurrency?: number;
  /** The account's Lambda concurrency limit; required with reservedConcurrency (checked here). */
  readonly accountConcurrencyLimit?: number;
  /** A custom domain for the API and pages. */
  readonly domain?: { readonly domainName: string; readonly certificateArn: string };
  /** Route 53 public hosted zone for the domain's alias record and the mail domain's DKIM records. */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName?: string };
  /** SES domain identity with DKIM (senderEmail is at this domain). */
  readonly mailDomain?: string;
  /** `existing`: the SES identity belongs to another stack in this account. */
  readonly mailIdentity?: 'create' | 'existing';
  /** `existing`: the account's API Gateway CloudWatch role is already set. */
  readonly apiGatewayAccountRole?: 'create' | 'existing';
  /** Phone codes (issue 17): SMS from this origination identity within this monthly spend limit (lib/stack/sms-settings.ts). */
  readonly sms?: SmsProps;
  /** The routes to deploy; the route table by default (tests may pass a subset). */
  readonly routes?: readonly Route[];
}

/**
 * Function logs: one year. They are operational (no PHI, no secrets: rule 20); the audit trail
 * proper is the audit table, and the API access log is kept six years (api.ts).
 */
export const functionLogRetention = RetentionDays.ONE_YEAR;

export class PortalAccessStack extends Stack {
  readonly data: PortalData;
  readonly identity: PortalIdentity;
  readonly mail: PortalMail;
  readonly pinKey: PinKey;
  /** The HMAC key of lobby password hashes (issue 16). */
  readonly lobbyKey: LobbyKey;
  /** Only with SMS (props.sms): the HMAC key of phone codes. */
  readonly phoneCodeKey?: PhoneCodeKey;
  /** By route id. */
  readonly functions = new Map<string, PortalFunction>();
  /** Functions that are not routes: Cognito triggers, the delivery-events function. */
  readonly triggers = new Map<string, PortalFunction>();
  readonly api: PortalApi;
  readonly monitoring: PortalMonitoring;
  /** The base of every emailed link (PORTAL_URL of every function). */
  readonly portalUrl: string;

  constructor(scope: Construct, id: string, props: PortalAccessStackProps) {
    super(scope, id, props);
    const routes = props.routes ?? routeTable;
    // Every route's function plus the token-scope trigger and the delivery-events function.
    checkReservedConcurrency(routes.length + 2, props.reservedConcurrency, props.accountConcurrencyLimit);

    let zone: IPublicHostedZone | undefined;
    if (props.hostedZone) {
      zone = PublicHostedZone.fromPublicHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.hostedZone.hostedZoneId,
        zoneName: props.hostedZone.zoneName ?? props.mailDomain ?? props.domain?.domainName ?? '',
      });
    }

    this.data = new PortalData(this, 'Data');
    this.identity = new PortalIdentity(this, 'Identity');
    this.mail = new PortalMail(this, 'Mail', {
      senderEmail: props.senderEmail,
      ...(props.mailDomain ? { mailDomain: props.mailDomain } : {}),
      ...(zone ? { hostedZone: zone } : {}),
      ...(props.mailIdentity ? { identity: props.mailIdentity } : {}),
    });
    this.pinKey = new PinKey(this, 'PinKey');
    this.lobbyKey = new LobbyKey(this, 'LobbyKey');
    if (props.sms) {
      this.phoneCodeKey = new PhoneCodeKey(this, 'PhoneCodeKey');
      new SmsSpendLimit(this, 'SmsSpendLimit', { monthlySpendLimit: props.sms.monthlySpendLimit });
    }
    const { records, audit } = this.data.tables;

    const targets: GrantTargets = {
      region: this.region,
      recordsTableArn: records.tableArn,
      recordsIndexArns: recordsTable.indexes.map((i) => `${records.tableArn}/index/${i.indexName}`),
      auditTableArn: audit.tableArn,
      dataKeyArn: this.data.key.keyArn,
      staffPoolArn: this.identity.staffPool.userPoolArn,
      patientPoolArn: this.identity.patientPool.userPoolArn,
      emailIdentityArn: this.mail.identityArn,
      configurationSetArn: this.mail.configurationSetArn,
      pinKeyArn: this.pinKey.key.keyArn,
      lobbyKeyArn: this.lobbyKey.key.keyArn,
      senderEmail: props.senderEmail,
      ...(props.sms && this.phoneCodeKey ? { phoneCodeKeyArn: this.phoneCodeKey.key.keyArn, smsOriginationArn: originationArn(this, props.sms.originationIdentity) } : {}),
    };

    // Every variable lambdas/config.ts reads (AWS_REGION is set by Lambda itself). PORTAL_URL
    // is added once the API exists (it may be the API's own URL).
    const environment: Record<string, string> = {
      RECORDS_TABLE: records.tableName,
      AUDIT_TABLE: audit.tableName,
      STAFF_POOL_ID: this.identity.staffPool.userPoolId,
      STAFF_CLIENT_ID: this.identity.staffClient.userPoolClientId,
      PATIENT_POOL_ID: this.identity.patientPool.userPoolId,
      PATIENT_CLIENT_ID: this.identity.patientClient.userPoolClientId,
      PRACTICE_NAME: props.practiceName ?? 'Our practice',
      SENDER_EMAIL: props.senderEmail,
      SES_CONFIGURATION_SET: this.mail.configurationSet.configurationSetName,
      PIN_KEY_ID: this.pinKey.key.keyArn,
      LOBBY_KEY_ID: this.lobbyKey.key.keyArn,
      ...(props.sms && this.phoneCodeKey ? { SMS_ORIGINATION_IDENTITY: props.sms.originationIdentity, PHONE_CODE_KEY_ID: this.phoneCodeKey.key.keyArn } : {}),
    };

    for (const route of routes) {
      this.functions.set(
        route.id,
        new PortalFunction(this, `Fn-${route.id}`, {
          route,
          environment,
          statements: statementsFor(grantsOf(route), targets),
          logKey: this.data.key,
          logRetention: functionLogRetention,
          ...(props.reservedConcurrency ? { reservedConcurrency: props.reservedConcurrency } : {}),
        }),
      );
    }
    // Both pools: access tokens lose the scope that would let their holder change credentials at
    // Cognito directly, around our password rules, and patient tokens carry their record's
    // generation (rule 17) (lambdas/triggers/pre-token-generation.ts).
    const tokenScope = new PortalFunction(this, 'Fn-token-scope', {
      route: { id: 'token-scope', entry: 'lambdas/triggers/pre-token-generation.ts', grants: [], describe: 'Cognito pre-token-generation trigger' },
      environment: { RECORDS_TABLE: records.tableName },
      statements: tokenTriggerStatements(targets),
      logKey: this.data.key,
      logRetention: functionLogRetention,
      ...(props.reservedConcurrency ? { reservedConcurrency: props.reservedConcurrency } : {}),
    });
    this.triggers.set('token-scope', tokenScope);
    for (const pool of [this.identity.patientPool, this.identity.staffPool]) {
      pool.addTrigger(UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, tokenScope.function, LambdaVersion.V2_0);
    }

    // SES delivery events onto the record (lib/stack/mail.ts, lambdas/handlers/delivery/events.ts).
    const deliveryEvents = new PortalFunction(this, 'Fn-delivery-events', {
      route: { id: 'delivery-events', entry: 'lambdas/handlers/delivery/events.ts', grants: ['records:read', 'records:write', 'audit:append'], describe: 'SES delivery events (EventBridge)' },
      environment,
      statements: statementsFor(['records:read', 'records:write', 'audit:append'], targets),
      logKey: this.data.key,
      logRetention: functionLogRetention,
      ...(props.reservedConcurrency ? { reservedConcurrency: props.reservedConcurrency } : {}),
    });
    this.triggers.set('delivery-events', deliveryEvents);
    this.mail.publishDeliveryEvents(deliveryEvents.function);

    const lambdas = new Map<string, IFunction>([...this.functions].map(([id, f]) => [id, f.function]));

    this.api = new PortalApi(this, 'Api', {
      routes,
      functions: lambdas,
      logKey: this.data.key,
      stageName: props.environmentName ?? defaultStageName,
      staffOrigins: props.staffOrigins ?? [],
      createAccountRole: props.apiGatewayAccountRole !== 'existing',
      ...(props.domain ? { domain: { ...props.domain, ...(zone ? { hostedZone: zone } : {}) } } : {}),
    });
    // The address emailed links start with: what the operator stated, else where the stack serves
    // the pages (the custom domain, else the API's own URL): never a host nobody runs.
    this.portalUrl = props.portalUrl?.replace(/\/+$/, '') ?? this.api.portalUrl;
    for (const fn of this.functions.values()) fn.function.addEnvironment('PORTAL_URL', this.portalUrl);
    // The staff routes' functions name a listed origin back (lambdas/http/cors.ts); unset: none.
    if (props.staffOrigins?.length) {
      for (const route of routes) if (answersCors(route)) this.functions.get(route.id)!.function.addEnvironment('STAFF_ORIGINS', props.staffOrigins.join(','));
    }
    this.monitoring = new PortalMonitoring(this, 'Monitoring', {
      api: this.api.api,
      accessLogs: this.api.accessLogs,
      functions: lambdas,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.api.api.url, 'Base URL of the API (stage included)');
    output('PortalUrl', this.portalUrl, 'Where the portal pages are served; emailed links start here');
    output('Region', this.region, 'Region of the stack (the staff CLI and the smoke check call it)');
    output('StaffUserPoolId', this.identity.staffPool.userPoolId, 'Staff user pool');
    output('StaffClientId', this.identity.staffClient.userPoolClientId, 'Staff app client');
    output('PatientUserPoolId', this.identity.patientPool.userPoolId, 'Patient user pool');
    output('PatientClientId', this.identity.patientClient.userPoolClientId, 'Patient app client');
    output('RecordsTableName', records.tableName, 'Records table');
    output('AuditTableName', audit.tableName, 'Audit table (append-only)');
    output('AlarmTopicArn', this.monitoring.topic.topicArn, 'Subscribe operators here');

    applyNagAcknowledgements(this);
  }
}
