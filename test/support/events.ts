/** API Gateway REST proxy events and a Lambda context, for calling handlers directly. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export interface EventOptions {
  method?: string;
  resource?: string;
  path?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  token?: string;
}

export function apiEvent(opts: EventOptions = {}): APIGatewayProxyEvent {
  const headers: Record<string, string> = { ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...opts.headers };
  if (opts.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = 'application/json';
  }
  return {
    httpMethod: opts.method ?? 'GET',
    resource: opts.resource ?? '/',
    path: opts.path ?? '/',
    headers,
    multiValueHeaders: {},
    pathParameters: opts.pathParameters ?? null,
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: opts.body === undefined ? null : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    isBase64Encoded: false,
    requestContext: {
      requestId: randomUUID(),
      identity: { sourceIp: '203.0.113.9' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export const lambdaContext = (): Context =>
  ({
    awsRequestId: randomUUID(),
    functionName: 'test',
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

export interface Answer {
  status: number;
  headers: Record<string, string>;
  json: Record<string, any>;
}

type AnyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export async function call(handler: unknown, event: APIGatewayProxyEvent): Promise<Answer> {
  const res = await (handler as AnyHandler)(event, lambdaContext());
  return {
    status: res.statusCode,
    headers: (res.headers ?? {}) as Record<string, string>,
    json: res.body ? (JSON.parse(res.body) as Record<string, any>) : {},
  };
}
