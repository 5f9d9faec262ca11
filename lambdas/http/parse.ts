/**
 * Turns an API Gateway event into validated input, or a 4xx problem: body over 16 KiB → 413,
 * non-JSON content type → 415, malformed JSON → 400, and each schema failure → 400 with one
 * `errors` entry per bad field (unknown fields included, one entry each).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { Route } from '../../lib/routes.ts';
import { badRequest, HttpProblem, type FieldError } from './problems.ts';

export const maxBodyBytes = 16 * 1024;

// zod/mini loads no locale by itself (classic zod loaded English): the messages of checks that
// carry none of their own ("Too big: expected string to have <=64 characters") stay in English.
z.config(en());

export interface ParsedRequest {
  params: unknown;
  query: unknown;
  headers: unknown;
  body: unknown;
}

export function parseRequest(route: Route, event: APIGatewayProxyEvent): ParsedRequest {
  const { request } = route;
  const errors: FieldError[] = [];
  const check = (where: string, schema: z.ZodMiniType | undefined, value: unknown): unknown => {
    if (!schema) return undefined;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    errors.push(...fieldErrors(where, result.error));
    return undefined;
  };

  const headers = lowerCaseHeaders(event.headers);
  const body = request.body ? readJsonBody(event, headers) : undefined;
  const parsed: ParsedRequest = {
    params: check('path', request.params, event.pathParameters ?? {}),
    query: check('query', request.query, event.queryStringParameters ?? {}),
    headers: check('header', request.headers, pickDeclared(request.headers, headers)),
    body: check('body', request.body, body),
  };
  if (errors.length > 0) throw badRequest(errors);
  return parsed;
}

function readJsonBody(event: APIGatewayProxyEvent, headers: Record<string, string>): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBodyBytes) {
    throw new HttpProblem(413, 'payload-too-large', 'Content Too Large', `The body must be at most ${maxBodyBytes} bytes.`);
  }
  const type = headers['content-type'];
  if (type !== undefined && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported Media Type', 'Send the body as application/json.');
  }
  if (text.trim() === '') throw badRequest([{ path: 'body', message: 'a JSON object is required' }]);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest([{ path: 'body', message: 'is not valid JSON' }], 'The body is not valid JSON.');
  }
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

/** Only the headers a route declares are validated; every other header is the client's business. */
function pickDeclared(schema: z.ZodMiniType | undefined, headers: Record<string, string>): Record<string, string> {
  const shape = (schema as unknown as { shape?: Record<string, unknown> } | undefined)?.shape;
  if (!shape) return {};
  const out: Record<string, string> = {};
  for (const name of Object.keys(shape)) if (headers[name] !== undefined) out[name] = headers[name];
  return out;
}

function fieldErrors(where: string, error: z.core.$ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const base = [where, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: `${base}.${key}`, message: 'is not a known field' }));
    }
    return [{ path: base, message: issue.message }];
  });
}
