/**
 * Mutation-testing rules for lambdas/http/caller-context.ts (issue 20): what Cognito's threat
 * protection is told about the caller (issue 13 item 13) comes from the request itself, and
 * never carries authorization, cookies or any header off the harmless list.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { callerContext } from '../../../lambdas/http/caller-context.ts';

type Event = Pick<APIGatewayProxyEvent, 'headers' | 'path' | 'requestContext'>;
const event = (change: Partial<Event>): Event =>
  ({ headers: {}, path: '/sessions', requestContext: { identity: { sourceIp: '203.0.113.4' }, domainName: 'api.example.test' }, ...change }) as Event;

describe('callerContext', () => {
  it('address, host header, path and only the harmless headers, lowercased, each cut at 512 characters', () => {
    const ctx = callerContext(
      event({
        headers: {
          'User-Agent': 'u'.repeat(600),
          'Accept-Language': 'en-GB',
          Accept: 'application/json',
          'X-Forwarded-For': '198.51.100.1',
          Origin: 'https://ehr.example.test',
          Host: 'portal.example.test',
          Authorization: 'Bearer secret-token-value',
          Cookie: 'sid=secret',
          'X-Api-Key': 'secret-key',
          'x-missing': undefined,
          referer: 'https://x.test/?token=secret',
        },
      }),
    );
    expect(ctx).toEqual({
      sourceIp: '203.0.113.4',
      serverName: 'portal.example.test',
      serverPath: '/sessions',
      headers: {
        'user-agent': 'u'.repeat(512),
        'accept-language': 'en-GB',
        accept: 'application/json',
        'x-forwarded-for': '198.51.100.1',
        origin: 'https://ehr.example.test',
      },
    });
    expect(JSON.stringify(ctx)).not.toContain('secret');
  });

  it('without a host header the gateway domain names the server; without either, "unknown"; no address, "unknown"; no path, "/"', () => {
    expect(callerContext(event({ headers: { 'User-Agent': undefined } as never })).serverName).toBe('api.example.test');
    const bare = callerContext({ headers: null, path: undefined, requestContext: undefined } as unknown as Event);
    expect(bare).toEqual({ sourceIp: 'unknown', serverName: 'unknown', serverPath: '/', headers: {} });
    expect(callerContext(event({ requestContext: { identity: {} } } as never)).sourceIp).toBe('unknown');
    // A request context without an identity (a test event, a local call): no address, not a crash.
    expect(callerContext(event({ requestContext: { domainName: 'api.example.test' } } as never))).toMatchObject({ sourceIp: 'unknown', serverName: 'api.example.test' });
  });
});
