/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas: the same
 * schemas that validate requests, so the document cannot drift from the code.
 *
 * The schemas' JSON Schema comes from zod itself (`z.toJSONSchema`, draft 2020-12, which is
 * OpenAPI 3.1's dialect): every schema with a `meta({ id })` becomes a component, referenced
 * where it is used. Request parts are written as zod reads them (`io: 'input'`: a default or a
 * transform does not make a field required), answers as handlers produce them (`io: 'output'`).
 *
 * No function bundles this module: GET /openapi.json serves the document the stack writes beside
 * its bundle at build time (lambdas/handlers/openapi/get.ts); the local server, the tests and
 * `npm run client` generate it here.
 */
import * as z from 'zod/mini';
import { grantsOf, routes, type Route } from '../../lib/routes.ts';
import { Problem } from '../schemas/common.ts';
import { responseSchema } from './response-schemas.ts';

/** The document as JSON: its `openapi` version, its paths, and everything else the generator writes. */
export type OpenApiDocument = { openapi: string; paths: Record<string, Record<string, unknown>>; [key: string]: unknown };

type JsonSchema = Record<string, unknown>;

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

const componentRef = (id: string) => `#/components/schemas/${id}`;

/**
 * JSON Schema for named zod schemas, all in one pass so that a schema with an id is written once
 * as a component: the schemas by name, and the components they reference.
 */
function toJsonSchemas(parts: Record<string, z.ZodMiniType>, io: 'input' | 'output'): { schemas: Record<string, JsonSchema>; components: Record<string, JsonSchema> } {
  const generated = z.toJSONSchema(z.object(parts), {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      // A plain (stripping) object accepts unknown keys and drops them: it does not forbid them.
      // zod writes `additionalProperties: false` for its output; only a strict object forbids.
      const def = zodSchema._zod.def as { type: string; catchall?: z.ZodMiniType; discriminator?: string; options?: z.ZodMiniType[] };
      if (def.type === 'object' && def.catchall === undefined) delete jsonSchema.additionalProperties;
      // A literal as a one-value enum, as the document has always written it (clients and the
      // contract check's messages read it so).
      if (def.type === 'literal' && 'const' in jsonSchema) {
        jsonSchema.enum = [jsonSchema.const as string | number | boolean | null];
        delete jsonSchema.const;
      }
      // A discriminated union of components keeps its OpenAPI discriminator (zod writes a plain oneOf).
      if (def.type === 'union' && def.discriminator && def.options) {
        const mapping: Record<string, string> = {};
        for (const option of def.options) {
          const id = z.globalRegistry.get(option)?.id;
          const values = option._zod.propValues?.[def.discriminator];
          if (id && values) for (const value of values) mapping[String(value)] = componentRef(id);
        }
        jsonSchema.discriminator = { propertyName: def.discriminator, mapping };
      }
    },
  }) as JsonSchema;
  // zod writes components under $defs and refers to them as #/$defs/<id>: point them at the document's components.
  const text = JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/');
  const { properties = {}, $defs = {} } = JSON.parse(text) as { properties?: Record<string, JsonSchema>; $defs?: Record<string, JsonSchema> };
  for (const component of Object.values($defs)) delete component.id;
  return { schemas: properties, components: $defs };
}

/** Pages and browser files are documented too (they share the route table), under their real media types. */
function successContent(route: Route, schema: JsonSchema): Record<string, { schema: JsonSchema }> {
  if (route.content === 'html') return { 'text/html': { schema } };
  if (route.content === 'asset') return { 'text/javascript': { schema }, 'text/css': { schema } };
  return { 'application/json': { schema } };
}

const problemContent = { 'application/problem+json': { schema: { $ref: componentRef('Problem') } } };

/** Path, query and header parameters: one per property of the route's object schema. */
function parameters(schema: JsonSchema | undefined, where: 'path' | 'query' | 'header'): JsonSchema[] {
  if (!schema) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description } = property;
    return {
      schema: property,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      name,
      in: where,
    };
  });
}

function generate(): OpenApiDocument {
  // Every request part and answer of every route, named `<route index>:<part>`, in one pass per direction.
  const inputs: Record<string, z.ZodMiniType> = {};
  const outputs: Record<string, z.ZodMiniType> = { problem: Problem };
  routes.forEach((route: Route, i) => {
    for (const [part, schema] of Object.entries(route.request)) if (schema) inputs[`${i}:${part}`] = schema;
    for (const [status, schema] of Object.entries(route.responses)) if (schema) outputs[`${i}:${status}`] = responseSchema(schema);
  });
  const input = toJsonSchemas(inputs, 'input');
  const output = toJsonSchemas(outputs, 'output');

  const paths: Record<string, Record<string, unknown>> = {};
  routes.forEach((route: Route, i) => {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, schema] of Object.entries(route.responses)) {
      const description = Number(status) < 400 ? 'Success' : 'Not found (a page)';
      responses[status] = schema ? { description, content: successContent(route, output.schemas[`${i}:${status}`]!) } : { description };
    }
    for (const status of problemStatuses(route)) {
      responses[String(status)] ??= { description: 'Problem (RFC 9457)', content: problemContent };
    }
    const part = (name: string) => input.schemas[`${i}:${name}`];
    const parameterList = [...parameters(part('params'), 'path'), ...parameters(part('query'), 'query'), ...parameters(part('headers'), 'header')];
    const body = part('body');
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.id,
      summary: route.summary,
      security: route.caller === 'public' ? [] : [{ [route.caller === 'admin' ? 'staffBearer' : `${route.caller}Bearer`]: [] }],
      ...(parameterList.length ? { parameters: parameterList } : {}),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses,
    };
  });

  return {
    openapi: '3.1.0',
    info: { title: 'portal-access', version: '1', description: 'Patient portal access: the HTTP contract of ../shared/api.md' },
    components: {
      securitySchemes: {
        staffBearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Access token of the staff user pool (POST /staff/sessions). Admin-only routes need the admin group.',
        },
        patientBearer: { type: 'http', scheme: 'bearer', description: 'Patient access token from POST /sessions.' },
        lobbyBearer: { type: 'http', scheme: 'bearer', description: 'Lobby token from POST /lobby-sessions (scope "intake").' },
      },
      // A component is written the same way read and answered unless a default or transform
      // sits inside it; then the answer's form is the one documented.
      schemas: { ...input.components, ...output.components },
    },
    paths,
  };
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  cached ??= generate();
  return cached;
}
