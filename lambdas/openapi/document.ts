/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas: the same
 * schemas that validate requests, so the document cannot drift from the code.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { routes, type Route } from '../../lib/routes.ts';
import { Problem } from '../schemas/common.ts';

const errorStatuses: Record<string, readonly number[]> = {
  public: [400, 401, 403, 409, 410, 413, 429],
  staff: [400, 401, 403, 404, 409, 413],
  admin: [400, 401, 403, 404, 409, 413],
  patient: [400, 401, 403, 413],
  lobby: [400, 401, 413],
};

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
    responses[status] = schema ? { description: 'Success', content: successContent(route, schema) } : { description: 'Success' };
  }
  for (const status of errorStatuses[route.caller] ?? []) {
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

let cached: unknown;

export function openApiDocument(): unknown {
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
    });
  }
  return cached;
}
