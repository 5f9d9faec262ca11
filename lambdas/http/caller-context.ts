/**
 * The caller as Cognito's threat protection wants to see it (issue 13 item 13): address, host,
 * path and a few harmless headers from the request itself. Never authorization, cookie or
 * anything that carries a secret: only the headers on this list are passed.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { CallerContext } from '../domain/ports.ts';

const harmless = ['user-agent', 'accept-language', 'accept', 'x-forwarded-for', 'origin'];

export function callerContext(event: Pick<APIGatewayProxyEvent, 'headers' | 'path' | 'requestContext'>): CallerContext {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const lower = name.toLowerCase();
    if (value !== undefined && harmless.includes(lower)) headers[lower] = value.slice(0, 512);
  }
  const host = Object.entries(event.headers ?? {}).find(([n]) => n.toLowerCase() === 'host')?.[1];
  return {
    sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
    serverName: host ?? event.requestContext?.domainName ?? 'unknown',
    serverPath: event.path ?? '/',
    headers,
  };
}
