/**
 * The public edge: an API Gateway REST API built from the route table (one Lambda proxy
 * integration per route), its stage (access and execution logging, tracing, throttling), the
 * gateway's own error answers as problem+json, and a WAF web ACL in front of the stage.
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  DomainName,
  EndpointAccessMode,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  MockIntegration,
  PassthroughBehavior,
  ResponseType,
  RestApi,
  SecurityPolicy,
  type CfnRestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { ARecord, RecordTarget, type IPublicHostedZone } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { Route } from '../routes.ts';
import { CORS_EXPOSED_HEADERS, CORS_MAX_AGE_SECONDS, parseStaffOrigins, preflightPolicies, type PreflightPolicy } from '../../lambdas/http/cors.ts';
import { uniqueSuffix } from './names.ts';

/** The stage without `-c env`; with it, the stage is named after the environment. */
export const defaultStageName = 'prod';

/**
 * The TLS policy of the execute-api endpoint and of the custom domain: an enhanced policy
 * (TLS 1.3 and 1.2, no TLS 1.0/1.1) with STRICT endpoint access mode (SNI must match).
 */
export const tlsPolicy = SecurityPolicy.TLS13_1_2_PQ_2025_09;

/**
 * Stage-level throttling, applied to every method (rule 6). A request takes ~100 ms, so 50
 * requests/s per method needs ~5 concurrent executions: below what the account pool gives a
 * function (and below a reserved 10 where `-c reservedConcurrency` is used), so the gateway
 * answers 429 before Lambda would throttle.
 */
export const stageThrottling = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * WAF rate limits per source IP over a 5-minute window (rule 6). A practice's staff and its
 * lobby tablets share one office IP, so the general limit is generous (1000 ≈ 3.3 requests/s
 * sustained). Every route that takes a secret (sign-in, PIN, reset, lobby password) is a POST,
 * so POSTs get a tight limit (100 per 5 min); the per-account limits (rule 5) live in the
 * service itself, because an attacker can spread guesses over many IPs.
 */
export const wafRateLimits = { all: 1000, post: 100, windowSeconds: 300 } as const;

/** The fields written to the access log: the route template, never the raw path (it holds link tokens and patient ids). */
export const accessLogFields = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  protocol: '$context.protocol',
  tlsVersion: '$context.tlsVersion',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  errorType: '$context.error.responseType',
  wafStatus: '$context.waf.status',
} as const;

interface GatewayProblem {
  readonly type: ResponseType;
  readonly statusCode?: string;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

const problem = (type: string, title: string, status?: number) => ({ type, title, ...(status ? { status } : {}) });

/**
 * API Gateway's own answers (no function ran), as RFC 9457 problem+json like every other error.
 * The two defaults keep the gateway's status code, which a template cannot read, so their body
 * has no `status`; the specific ones below set both.
 */
export const gatewayProblems: readonly GatewayProblem[] = [
  { type: ResponseType.DEFAULT_4XX, body: problem('about:blank', 'Bad Request') },
  { type: ResponseType.DEFAULT_5XX, body: problem('about:blank', 'Service Unavailable') },
  // API Gateway's answer for a path or method it does not know: a 404 like the local server's.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '404', body: problem('/problems/not-found', 'Not Found', 404) },
  { type: ResponseType.RESOURCE_NOT_FOUND, statusCode: '404', body: problem('/problems/not-found', 'Not Found', 404) },
  {
    type: ResponseType.THROTTLED,
    statusCode: '429',
    body: problem('/problems/too-many-requests', 'Too Many Requests', 429),
    headers: { 'Retry-After': "'1'" },
  },
  { type: ResponseType.WAF_FILTERED, statusCode: '403', body: problem('/problems/forbidden', 'Forbidden', 403) },
  { type: ResponseType.REQUEST_TOO_LARGE, statusCode: '413', body: problem('/problems/payload-too-large', 'Payload Too Large', 413) },
  { type: ResponseType.INTEGRATION_TIMEOUT, statusCode: '504', body: problem('about:blank', 'Gateway Timeout', 504) },
  { type: ResponseType.INTEGRATION_FAILURE, statusCode: '502', body: problem('about:blank', 'Bad Gateway', 502) },
];

/**
 * CORS for the staff web client (api.md; lambdas/http/cors.ts decides routes, methods, headers).
 *
 * Preflight: an OPTIONS method on each staff path only, answered by a mock integration (no
 * function runs). Its mapping template names the asking origin back only when it is listed,
 * through `$context.responseOverride.header` (a static header can hold one origin only; the
 * template is how API Gateway answers per request), so any other origin gets no
 * Access-Control-Allow-* at all, just `Vary: Origin`, as the local server answers.
 */
export function preflightTemplate(policy: PreflightPolicy, origins: readonly string[]): string {
  // The origins are checked bare origins (cors.ts): no quote or `$` can reach the template.
  const listed = origins.map((o) => `$origin == "${o}"`).join(' || ');
  return [
    '#set($origin = $input.params().header.get("Origin"))',
    '#if("$!origin" == "")',
    '  #set($origin = $input.params().header.get("origin"))',
    '#end',
    `#if(${listed})`,
    '  #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)',
    `  #set($context.responseOverride.header.Access-Control-Allow-Methods = "${policy.methods.join(', ')}")`,
    `  #set($context.responseOverride.header.Access-Control-Allow-Headers = "${policy.headers.join(', ')}")`,
    `  #set($context.responseOverride.header.Access-Control-Max-Age = "${CORS_MAX_AGE_SECONDS}")`,
    '#end',
  ].join('\n');
}

/**
 * The CORS headers of the gateway's own answers (4XX/5XX defaults, WAF_FILTERED 403, THROTTLED
 * 429, …), so the staff client can read them. A gateway response cannot run a template (its
 * templates are not VTL-processed) and maps a header either from a literal or from a request
 * parameter. So with ONE origin it names that origin (exact); with several it maps
 * `method.request.header.Origin`, i.e. names whichever origin asked: the only per-request answer
 * API Gateway offers there. These answers carry a fixed problem body and no data, and no
 * credentials mode is allowed, so naming an unlisted origin on them exposes nothing; the
 * functions' answers and the preflight name listed origins only. Gateway responses are API-wide:
 * they also apply to patient paths (a gateway 404/429/403 there), the one place those carry CORS.
 */
export function gatewayCorsHeaders(origins: readonly string[]): Record<string, string> {
  if (origins.length === 0) return {};
  return {
    'Access-Control-Allow-Origin': origins.length === 1 ? `'${origins[0]}'` : 'method.request.header.Origin',
    'Access-Control-Expose-Headers': `'${CORS_EXPOSED_HEADERS.join(', ')}'`,
    Vary: "'Origin'",
  };
}

/**
 * The WAF's own 429 (rate rules with a custom response) never reaches API Gateway's gateway
 * responses (a WAF custom response takes precedence), and its headers are literals: with ONE
 * origin they name it; with several none can be named, and a browser shows that 429 as a
 * failed fetch (the client should treat a failed fetch as "try again later").
 */
export function wafCorsHeaders(origins: readonly string[]): { name: string; value: string }[] {
  if (origins.length !== 1) return [];
  return [
    { name: 'Access-Control-Allow-Origin', value: origins[0]! },
    { name: 'Access-Control-Expose-Headers', value: CORS_EXPOSED_HEADERS.join(', ') },
    { name: 'Vary', value: 'Origin' },
  ];
}

export interface CustomDomain {
  readonly domainName: string;
  readonly certificateArn: string;
  /** When given, an alias A record for domainName is created in it. */
  readonly hostedZone?: IPublicHostedZone;
}

export interface PortalApiProps {
  readonly routes: readonly Route[];
  readonly functions: ReadonlyMap<string, IFunction>;
  readonly logKey: IKey;
  /** The stage (defaultStageName without an environment). */
  readonly stageName?: string;
  /** Serve the API (pages included) at https://<domainName>/ as well. */
  readonly domain?: CustomDomain;
  /**
   * Create the account-level API Gateway CloudWatch role (needed once per account and region
   * for execution logging). False when it is already set, e.g. by the production stack.
   */
  readonly createAccountRole?: boolean;
  /** The staff web client's origins (`-c staffOrigins`), checked again here: none means no CORS. */
  readonly staffOrigins?: readonly string[];
}

export class PortalApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;
  readonly executionLogs: LogGroup;
  readonly wafLogs: LogGroup;
  readonly webAcl: CfnWebACL;
  readonly webAclAssociation: CfnWebACLAssociation;
  readonly stageName: string;
  readonly domain?: DomainName;
  /**
   * The base URL the portal is served at, no trailing slash: https://<domainName>, else the
   * execute-api URL with the stage. Built from the API id and the stage name (a literal), not
   * from the stage resource, so the functions can carry it without a dependency cycle.
   */
  readonly portalUrl: string;

  constructor(scope: Construct, id: string, props: PortalApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const stageName = (this.stageName = props.stageName ?? defaultStageName);
    // Refused at synth: `*`, http other than localhost/127.0.0.1, anything but a bare origin.
    const staffOrigins = parseStaffOrigins(props.staffOrigins ?? []);

    // Access logs are the record of who reached which route from where (HIPAA 164.312(b)):
    // kept six years like other HIPAA documentation. They hold no PHI (route templates only).
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      encryptionKey: props.logKey,
      retention: RetentionDays.SIX_YEARS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const createAccountRole = props.createAccountRole ?? true;
    this.api = new RestApi(this, 'Api', {
      restApiName: `${stack.stackName}-api`,
      description: 'portal-access: patient portal access service',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // Execution logging needs the account-level API Gateway → CloudWatch Logs role. It is one
      // setting per account and region: the role has a generated name and is retained with the
      // setting, so two stacks that both create it leave a working role whichever wrote last;
      // `-c apiGatewayAccountRole=existing` leaves the setting to the stack that made it.
      cloudWatchRole: createAccountRole,
      ...(createAccountRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      failOnWarnings: true,
      deployOptions: {
        stageName,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
        // ERROR only and never data tracing: full request/response logging would write
        // passwords, tokens and PHI to the logs (rule 20).
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: stageThrottling.rateLimit,
        throttlingBurstLimit: stageThrottling.burstLimit,
      },
    });

    // TLS 1.2 minimum on the default execute-api endpoint: an enhanced security policy (TLS 1.3
    // and 1.2, no TLS 1.0/1.1) with STRICT endpoint access mode (SNI must match this API).
    // The L2 construct has no property for it yet, hence the L1 escape hatch.
    const cfnApi = this.api.node.defaultChild as CfnRestApi;
    cfnApi.securityPolicy = tlsPolicy;
    cfnApi.endpointAccessMode = EndpointAccessMode.STRICT;

    // API Gateway creates the execution log group on first error, unencrypted and kept forever;
    // creating it first (same name) gives it the key and a retention (rule 21).
    this.executionLogs = new LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${stageName}`,
      encryptionKey: props.logKey,
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api.deploymentStage.node.addDependency(this.executionLogs);

    for (const route of props.routes) {
      const fn = props.functions.get(route.id);
      if (!fn) throw new Error(`no function for route ${route.id}`);
      // Authorization happens in the functions (acknowledged as APIG4/COG4 in nag-acknowledgements.ts).
      this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(fn, { proxy: true, allowTestInvoke: false }), {
        authorizationType: AuthorizationType.NONE,
        operationName: route.id,
      });
    }

    if (staffOrigins.length > 0) {
      for (const [path, policy] of preflightPolicies(props.routes)) {
        const headers = ['Access-Control-Allow-Origin', 'Access-Control-Allow-Methods', 'Access-Control-Allow-Headers', 'Access-Control-Max-Age', 'Vary'];
        this.api.root.resourceForPath(path).addMethod(
          'OPTIONS',
          new MockIntegration({
            // A preflight has no body: the mock answers from the request template's status.
            requestTemplates: { 'application/json': '{ "statusCode": 200 }' },
            passthroughBehavior: PassthroughBehavior.WHEN_NO_TEMPLATES,
            integrationResponses: [
              {
                statusCode: '204',
                responseParameters: { 'method.response.header.Vary': "'Origin'" },
                responseTemplates: { 'application/json': preflightTemplate(policy, staffOrigins) },
              },
            ],
          }),
          {
            // A preflight carries no credentials by definition (Fetch standard); acknowledged as APIG4/COG4 with every method.
            authorizationType: AuthorizationType.NONE,
            methodResponses: [{ statusCode: '204', responseParameters: Object.fromEntries(headers.map((h) => [`method.response.header.${h}`, true])) }],
          },
        );
      }
    }

    for (const p of gatewayProblems) {
      this.api.addGatewayResponse(p.type.responseType, {
        type: p.type,
        ...(p.statusCode ? { statusCode: p.statusCode } : {}),
        responseHeaders: {
          'Content-Type': "'application/problem+json'",
          'Cache-Control': "'no-store'",
          'X-Content-Type-Options': "'nosniff'",
          ...p.headers,
          ...gatewayCorsHeaders(staffOrigins),
        },
        // $context.requestId lets a caller quote the request; it is the id the functions log.
        templates: { 'application/json': JSON.stringify({ ...p.body, requestId: '$context.requestId' }) },
      });
    }

    this.portalUrl = `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${stageName}`;
    if (props.domain) {
      // Regional, TLS 1.2+, mapped at the root (no base path): links are https://<domain>/portal/...
      this.domain = new DomainName(this, 'Domain', {
        domainName: props.domain.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
        endpointType: EndpointType.REGIONAL,
        securityPolicy: tlsPolicy,
        endpointAccessMode: EndpointAccessMode.STRICT,
        mapping: this.api,
      });
      this.portalUrl = `https://${props.domain.domainName}`;
      if (props.domain.hostedZone) {
        new ARecord(this, 'DomainAlias', {
          zone: props.domain.hostedZone,
          // Fully qualified (trailing dot): the zone may be the domain's parent.
          recordName: `${props.domain.domainName}.`,
          target: RecordTarget.fromAlias(new ApiGatewayDomain(this.domain)),
        });
      }
    }

    [this.webAcl, this.wafLogs] = this.firewall(props.logKey, staffOrigins);
    this.webAclAssociation = new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }

  private firewall(logKey: IKey, staffOrigins: readonly string[]): [CfnWebACL, LogGroup] {
    const stack = Stack.of(this);
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      // Sampled requests would show headers (bearer tokens) and paths (link tokens) in the console.
      sampledRequestsEnabled: false,
    });
    const tooManyRequests: CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: 'tooManyRequests',
          responseHeaders: [{ name: 'Retry-After', value: String(wafRateLimits.windowSeconds) }, ...wafCorsHeaders(staffOrigins)],
        },
      },
    };
    const managed = (priority: number, name: string, overrides: string[] = []): CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(overrides.length ? { ruleActionOverrides: overrides.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(name),
    });

    const webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'portal-access API: per-IP rate limits and AWS managed rules',
      visibilityConfig: visibility('portal-access-api'),
      customResponseBodies: {
        tooManyRequests: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(problem('/problems/too-many-requests', 'Too Many Requests', 429)),
        },
      },
      rules: [
        managed(0, 'AWSManagedRulesAmazonIpReputationList'),
        {
          name: 'RatePerIp',
          priority: 1,
          action: tooManyRequests,
          statement: {
            rateBasedStatement: { limit: wafRateLimits.all, aggregateKeyType: 'IP', evaluationWindowSec: wafRateLimits.windowSeconds },
          },
          visibilityConfig: visibility('RatePerIp'),
        },
        {
          name: 'RatePerIpPost',
          priority: 2,
          action: tooManyRequests,
          statement: {
            rateBasedStatement: {
              limit: wafRateLimits.post,
              aggregateKeyType: 'IP',
              evaluationWindowSec: wafRateLimits.windowSeconds,
              scopeDownStatement: {
                byteMatchStatement: {
                  fieldToMatch: { method: {} },
                  positionalConstraint: 'EXACTLY',
                  searchString: 'POST',
                  textTransformations: [{ priority: 0, type: 'NONE' }],
                },
              },
            },
          },
          visibilityConfig: visibility('RatePerIpPost'),
        },
        // Body size is the service's to judge (api.md: 413 above 16 KiB); the common rule set
        // would block any body above 8 KiB with a bare 403, so that one rule only counts.
        managed(3, 'AWSManagedRulesCommonRuleSet', ['SizeRestrictions_BODY']),
        managed(4, 'AWSManagedRulesKnownBadInputsRuleSet'),
      ],
    });

    // WAF requires the aws-waf-logs- prefix. The log group is retained, so its name must not be
    // fixed: a stack created again (after a rolled-back first deploy, or after destroy) would
    // collide with the kept one. The suffix comes from the stack's id, new for every creation.
    // Only blocked and counted requests are kept (the access log has the rest), and the fields
    // that can carry secrets are redacted.
    const logGroupName = `aws-waf-logs-${stack.stackName}-${uniqueSuffix(stack)}`;
    const wafLogs = new LogGroup(this, 'WafLogs', {
      logGroupName,
      encryptionKey: logKey,
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logging = new CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: webAcl.attrArn,
      // WAF wants the log group ARN without the trailing ":*" that LogGroup.logGroupArn carries.
      logDestinationConfigs: [
        stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }, { uriPath: {} }, { queryString: {} }],
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
          },
        ],
      },
    });
    logging.node.addDependency(wafLogs);
    return [webAcl, wafLogs];
  }
}
