/** The REST v1 proxy event and Lambda context the local API gateway builds, as a pure function. */
import { describe, expect, it } from 'vitest';
import { isText, lambdaContext, toProxyEvent, type IncomingRequest, type MatchedRoute } from '../../../lib/local/event.ts';

const request = (overrides: Partial<IncomingRequest> = {}): IncomingRequest => ({
  method: 'GET',
  path: '/patients/p%2F1/portal',
  query: '',
  rawHeaders: ['Host', '127.0.0.1:3000', 'User-Agent', 'test-agent'],
  body: Buffer.alloc(0),
  sourceIp: '10.1.2.3',
  protocol: 'HTTP/1.1',
  requestId: '00000000-0000-4000-8000-000000000001',
  receivedAt: Date.UTC(2025, 10, 21, 22, 39, 5),
  ...overrides,
});

const route: MatchedRoute = { id: 'portal-record-get', template: '/patients/{patientId}/portal', pathParameters: { patientId: 'p/1' } };

describe('toProxyEvent', () => {
  it('carries the route, the raw path and the decoded path parameters', () => {
    const event = toProxyEvent(request(), route);
    expect(event).toMatchObject({
      resource: '/patients/{patientId}/portal',
      path: '/patients/p%2F1/portal',
      httpMethod: 'GET',
      pathParameters: { patientId: 'p/1' },
      stageVariables: null,
    });
  });

  it('has null query parameters and a null body when there are none, like API Gateway', () => {
    const event = toProxyEvent(request(), { ...route, pathParameters: null });
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.pathParameters).toBeNull();
    expect(event.body).toBeNull();
    expect(event.isBase64Encoded).toBe(false);
  });

  it('decodes the query: the last value of a repeated name, all values in the multi-value map', () => {
    const event = toProxyEvent(request({ query: 'query=a%20b&cursor=x&cursor=y&plus=1+2' }), route);
    expect(event.queryStringParameters).toEqual({ query: 'a b', cursor: 'y', plus: '1 2' });
    expect(event.multiValueQueryStringParameters).toEqual({ query: ['a b'], cursor: ['x', 'y'], plus: ['1 2'] });
  });

  it('keeps header names as received; a repeated header keeps its last value and all in multiValueHeaders', () => {
    const event = toProxyEvent(request({ rawHeaders: ['X-Thing', 'one', 'x-thing', 'lower', 'X-Thing', 'two', 'Host', 'h'] }), route);
    expect(event.headers).toEqual({ 'X-Thing': 'two', 'x-thing': 'lower', Host: 'h' });
    expect(event.multiValueHeaders).toEqual({ 'X-Thing': ['one', 'two'], 'x-thing': ['lower'], Host: ['h'] });
  });

  it('passes a JSON body as a utf-8 string', () => {
    const body = Buffer.from('{"name":"Zoë"}', 'utf8');
    const event = toProxyEvent(request({ method: 'PUT', body, rawHeaders: ['Content-Type', 'application/json; charset=utf-8'] }), route);
    expect(event.body).toBe('{"name":"Zoë"}');
    expect(event.isBase64Encoded).toBe(false);
  });

  it('passes a binary body base64-encoded', () => {
    const body = Buffer.from([0, 1, 2, 250, 255]);
    const event = toProxyEvent(request({ method: 'POST', body, rawHeaders: ['content-type', 'image/png'] }), route);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(body);
  });

  it('fills the request context', () => {
    const event = toProxyEvent(request(), route);
    expect(event.requestContext).toMatchObject({
      requestId: '00000000-0000-4000-8000-000000000001',
      httpMethod: 'GET',
      path: '/patients/p%2F1/portal',
      resourcePath: '/patients/{patientId}/portal',
      stage: 'local',
      protocol: 'HTTP/1.1',
      domainName: '127.0.0.1:3000',
      requestTimeEpoch: Date.UTC(2025, 10, 21, 22, 39, 5),
      requestTime: '21/Nov/2025:22:39:05 +0000',
      identity: { sourceIp: '10.1.2.3', userAgent: 'test-agent', cognitoIdentityId: null },
    });
  });
});

describe('isText', () => {
  it.each([
    ['', true],
    ['application/json', true],
    ['application/problem+json', true],
    ['text/html; charset=utf-8', true],
    ['application/x-www-form-urlencoded', true],
    ['image/png', false],
    ['application/octet-stream', false],
    ['multipart/form-data; boundary=x', false],
  ])('%s → %s', (type, text) => expect(isText(type)).toBe(text));
});

describe('lambdaContext', () => {
  it('names the function after the route and counts down from the 29-second API Gateway limit', () => {
    const now = Date.now();
    const context = lambdaContext('portal-record-get', now);
    expect(context.functionName).toBe('portal-record-get');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(28_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(29_000);
    expect(lambdaContext('x', now).awsRequestId).not.toBe(context.awsRequestId);
  });
});
