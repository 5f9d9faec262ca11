/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas: the same
 * schemas that validate requests, so the document cannot drift from the code.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { grantsOf, routes, type Route } from '../../lib/routes.ts';
import { Problem } from '../schemas/common.ts';

/** The document as JSON: its `openapi` version, its paths, and everything else the generator writes. */
export type OpenApiDocument = { openapi: string; paths: Record<string, Record<string, unknown>>; [key: string]: unknown };

/** Grants that reach DynamoDB: a route holding one may answer 503 when the table stays busy (rule 35). */
const databaseGrant = /^(records|audit|throttle|challenge|lobby|reset|emailMatch|staff):/;

/**
 * The problem statuses a route may answer: its own (`route.problems`), and those of the chain
 * (lambdas/http and the API in front of it) for a route of its kind.
 */
export function problemStatuses(route: Route): number[] {
  const statuses = new Set<number>(route.problems ?? []);
  const { params, query, headers, body } = route.request;
  if (params || query || headers || body) statuses.add(400); // lambdas/http/parse.ts
  if (body) statuses.add(413).add(415);
  if (route.caller !== 'public') statuses.add(401); // no valid token
  if (route.caller === 'staff' || route.caller === 'admin') statuses.add(403); // role or permission missing
  if ((route.caller === 'staff' || route.caller === 'admin') && route.path.includes('{')) statuses.add(404); // no such record or user
  const grants: readonly string[] = grantsOf(route);
  if (grants.includes('throttle:readwrite')) statuses.add(429); // repeated failures, with Retry-After
  if (grants.includes('records:write')) statuses.add(409); // a concurrent change of the same record won (rule 25)
  if (grants.some((g) => databaseGrant.test(g))) statuses.add(503); // busy, with Retry-After
  statuses.add(500); // our fault: a generic body quoting the request id
  return [...statuses].sort((a, b) => a - b);
}

/** Pages and browser files are documented too (they share the route table), under their real media types. */
function successContent(route: Route, schema: z.ZodType): Record<string, { schema: z.ZodType }> {
  if (route.content === 'html') return { 'text/html': { schema } };
  if (route.content === 'asset') return { 'text/javascript': { schema }, 'text/css': { schema } };
  return { 'application/json': { schema } };
}

function registerRoute(registry: OpenAPIRegistry, route: Route): void {
  const { params, query, headers, body } = route.request;
  const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {};
  for (const [status, schema] of Object.entries(route.responses)) {
    const description = Number(status) < 400 ? 'Success' : 'Not found (a page)';
    responses[status] = schema ? { description, content: successContent(route, schema) } : { description };
  }
  for (const status of problemStatuses(route)) {
    if (responses[String(status)]) continue;
    responses[String(status)] = { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: Problem } } };
  }
  registry.registerPath({
    operationId: route.id,
    method: route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete',
    path: route.path,
    summary: route.summary,
    security: route.caller === 'public' ? [] : [{ [route.caller === 'admin' ? 'staffBearer' : `${route.caller}Bearer`]: [] }],
    request: {
      ...(params ? { params: params as z.ZodObject } : {}),
      ...(query ? { query: query as z.ZodObject } : {}),
      ...(headers ? { headers: headers as z.ZodObject } : {}),
      ...(body ? { body: { required: true, content: { 'application/json': { schema: body } } } } : {}),
    },
    responses,
  });
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  if (!cached) {
    const registry = new OpenAPIRegistry();
    registry.registerComponent('securitySchemes', 'staffBearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'Access token of the staff user pool (POST /staff/sessions). Admin-only routes need the admin group.',
    });
    registry.registerComponent('securitySchemes', 'patientBearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'Patient access token from POST /sessions.',
    });
    registry.registerComponent('securitySchemes', 'lobbyBearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'Lobby token from POST /lobby-sessions (scope "intake").',
    });
    for (const route of routes) registerRoute(registry, route);
    cached = new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { title: 'portal-access', version: '1', description: 'Patient portal access: the HTTP contract of ../shared/api.md' },
    }) as unknown as OpenApiDocument;
  }
  return cached;
}
