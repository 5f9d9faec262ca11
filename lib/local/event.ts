/**
 * What API Gateway (REST API, Lambda proxy integration, payload v1) hands a function: the event
 * and the Lambda context, built from a plain description of the HTTP request. Pure, so it can be
 * tested without a server.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export interface IncomingRequest {
  method: string;
  /** The path as received, still percent-encoded (API Gateway REST passes it so). */
  path: string;
  /** The query string without the leading '?', '' when none. */
  query: string;
  /** Node's rawHeaders: name, value, name, value… with names as the client sent them. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  protocol: string;
  requestId: string;
  receivedAt: number;
}

export interface MatchedRoute {
  id: string;
  /** The path template, e.g. /patients/{patientId}/portal. */
  template: string;
  /** Decoded values, or null when the template has none. */
  pathParameters: Record<string, string> | null;
}

/** API Gateway's integration timeout: what getRemainingTimeInMillis counts down from. */
export const TIMEOUT_MS = 29_000;

export function toProxyEvent(req: IncomingRequest, route: MatchedRoute): APIGatewayProxyEvent {
  const { headers, multiValueHeaders, contentType, host, userAgent } = readHeaders(req.rawHeaders);
  const { single, multi } = readQuery(req.query);
  const binary = req.body.length > 0 && !isText(contentType);
  return {
    resource: route.template,
    path: req.path,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: single,
    multiValueQueryStringParameters: multi,
    pathParameters: route.pathParameters,
    stageVariables: null,
    body: req.body.length === 0 ? null : req.body.toString(binary ? 'base64' : 'utf8'),
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      domainName: host,
      domainPrefix: host.split('.')[0],
      extendedRequestId: req.requestId,
      httpMethod: req.method,
      identity: identity(req.sourceIp, userAgent),
      path: req.path,
      protocol: req.protocol,
      requestId: req.requestId,
      requestTime: requestTime(req.receivedAt),
      requestTimeEpoch: req.receivedAt,
      resourceId: route.id,
      resourcePath: route.template,
      stage: 'local',
    },
  };
}

export function lambdaContext(functionName: string, receivedAt: number): Context {
  return new LocalContext(functionName, receivedAt + TIMEOUT_MS);
}

const unsupported = (): never => {
  throw new Error('the callback-style Lambda API (done/fail/succeed) is not supported; return a result');
};

/**
 * The Lambda context of one request. A class, not an object literal of closures: its methods are
 * made once, not per request (issue 16 item 5, profiled: the closures and tsx's name wrapping of
 * each were ~1.5% of a /health request's CPU), and the ARN, log group and request id are made
 * only when a handler reads them (ours read none but awsRequestId, and that only without an event
 * request id).
 */
class LocalContext implements Context {
  callbackWaitsForEmptyEventLoop = true;
  readonly functionVersion = '$LATEST';
  readonly memoryLimitInMB = '1024';
  readonly logStreamName = 'local';
  #awsRequestId: string | undefined;

  constructor(
    readonly functionName: string,
    private readonly deadline: number,
  ) {}

  get awsRequestId(): string {
    return (this.#awsRequestId ??= randomUUID());
  }

  get invokedFunctionArn(): string {
    return `arn:aws:lambda:us-east-1:000000000000:function:${this.functionName}`;
  }

  get logGroupName(): string {
    return `/aws/lambda/${this.functionName}`;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  done = unsupported;
  fail = unsupported;
  succeed = unsupported;
}

/** `headers` keeps the last value of a repeated header, `multiValueHeaders` all of them. */
function readHeaders(raw: readonly string[]) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  let contentType = '';
  let host = 'localhost';
  let userAgent: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
    switch (name.toLowerCase()) {
      case 'content-type':
        contentType = value.toLowerCase();
        break;
      case 'host':
        host = value;
        break;
      case 'user-agent':
        userAgent = value;
        break;
    }
  }
  return { headers, multiValueHeaders, contentType, host, userAgent };
}

/** Decoded values; null (not {}) when there is no query string, as API Gateway does. */
function readQuery(query: string) {
  if (query === '') return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

/**
 * Which bodies arrive as text. In AWS the API's binaryMediaTypes decide; locally every type that
 * is not plainly text counts as binary and arrives base64-encoded.
 */
export function isText(contentType: string): boolean {
  if (contentType === '') return true;
  const type = contentType.split(';', 1)[0]!.trim();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

function identity(sourceIp: string, userAgent: string | null): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent,
    userArn: null,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** The last second formatted: requests in the same second share the string. */
let lastTime = { second: NaN, text: '' };

/** API Gateway's CLF-style time: 21/Nov/2025:22:39:00 +0000 */
function requestTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second === lastTime.second) return lastTime.text;
  const d = new Date(epochMs);
  const text =
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  lastTime = { second, text };
  return text;
}
