/**
 * The middy chain every handler runs, in order,
 *   1. request context: request id, logger, timing, and the mapping of every error to problem+json;
 *   2. authentication: the caller rule from the route table, by the `authenticate` it is given;
 *   3. parsing: body size, JSON, and the route's zod schemas for path, query, headers and body;
 * and then the handler's own function, which gets typed input and returns a status and a body.
 * Handlers do not import this: they use `defineHandler` from ./handler.ts (any route) or
 * ./public-handler.ts (public routes). It imports no authenticator, so a public function's bundle
 * carries no token checks and none of the AWS clients they need.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { routes, type Route, type RouteId } from '../../lib/routes.ts';
import { BackendBusy, DomainError } from '../domain/errors.ts';
import type { Caller } from '../../lib/routes.ts';
import type { StaffPrincipal } from './auth.ts';
import type { LobbyPrincipal } from './lobby-auth.ts';
import type { PatientPrincipal } from './patient-auth.ts';
import { createLogger, type Logger } from './logger.ts';
import { HttpProblem, problemBody, problemResponse, statusOfKind, titleOf } from './problems.ts';
import { parseRequest } from './parse.ts';
import { callerContext } from './caller-context.ts';
import { corsMiddleware } from './cors.ts';
import type { CallerContext } from '../domain/ports.ts';

export type RouteOf<Id extends RouteId> = Extract<(typeof routes)[number], { id: Id }>;
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type Req<R extends Route> = R['request'];

export interface Input<R extends Route> {
  params: Parsed<Req<R> extends { params: infer S } ? S : undefined>;
  query: Parsed<Req<R> extends { query: infer S } ? S : undefined>;
  headers: Parsed<Req<R> extends { headers: infer S } ? S : undefined>;
  body: Parsed<Req<R> extends { body: infer S } ? S : undefined>;
  principal: PrincipalFor<R['caller']>;
  requestId: string;
  sourceIp: string;
  /** Address, host, path and harmless headers, for Cognito's threat protection. */
  callerContext: CallerContext;
  log: Logger;
}

/** Who the caller proved to be, by the kind of caller the route table allows. */
export interface Principals {
  public: undefined;
  staff: StaffPrincipal;
  admin: StaffPrincipal;
  patient: PatientPrincipal;
  lobby: LobbyPrincipal;
}
type PrincipalFor<C extends Caller> = Principals[C];

/** Proves the caller the route allows, from the Authorization header, or throws (401/403). */
export type Authenticate = (caller: Caller, authorization: string | undefined) => Promise<Principals[Caller]>;

export interface Output {
  status: number;
  body?: unknown;
  /** Written verbatim instead of JSON (pages, browser files); its content-type comes from `headers`. */
  text?: string;
  headers?: Record<string, string>;
}

interface RequestState extends Record<string, unknown> {
  requestId: string;
  log: Logger;
  started: number;
}

type PortalContext = Context & { portalInput?: Input<Route> };

type MiddyRequest = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, RequestState>;

export function buildHandler<const Id extends RouteId>(
  id: Id,
  run: (input: Input<RouteOf<Id>>) => Promise<Output>,
  authenticate: Authenticate,
) {
  const route = routes.find((r) => r.id === id) as Route;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, RequestState>({ timeoutEarlyInMillis: 0 })
    .use(corsMiddleware(route)) // first, so it adds its headers last: to every answer, problems included
    .use({
      before: (request: MiddyRequest) => {
        const requestId = request.event.requestContext?.requestId ?? request.context.awsRequestId;
        request.internal.requestId = requestId;
        request.internal.started = performance.now();
        request.internal.log = createLogger({ requestId, route: route.id });
      },
      after: (request: MiddyRequest) => finish(request, request.response?.statusCode ?? 200),
      onError: (request: MiddyRequest) => {
        request.response = errorResponse(request);
        finish(request, request.response.statusCode);
      },
    })
    .use({
      before: async (request: MiddyRequest) => {
        const { event, internal } = request;
        const principal = await authenticate(route.caller, header(event, 'authorization'));
        const parsed = parseRequest(route, event);
        (request.context as PortalContext).portalInput = {
          ...parsed,
          principal,
          requestId: internal.requestId,
          sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
          callerContext: callerContext(event),
          log: internal.log,
        } as unknown as Input<Route>;
      },
    })
    .handler(async (_event, context) => {
      // middy hands the handler (event, context); the parsed input rides on the context.
      const input = (context as PortalContext).portalInput as Input<RouteOf<Id>>;
      const out = await run(input);
      return {
        statusCode: out.status,
        headers: {
          'content-type': 'application/json',
          'cache-control': 'no-store',
          ...out.headers,
        },
        body: out.text ?? (out.body === undefined ? '' : JSON.stringify(out.body)),
      };
    });
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v !== undefined) return v;
  return undefined;
}

function finish(request: MiddyRequest, status: number): void {
  const { internal } = request;
  if (request.response) {
    request.response.headers = { ...request.response.headers, 'x-request-id': internal.requestId };
  }
  internal.log?.info('request', {
    method: request.event.httpMethod,
    status,
    durationMs: Math.round(performance.now() - internal.started),
  });
}

function errorResponse(request: MiddyRequest): APIGatewayProxyResult {
  const { error, internal } = request;
  const requestId = internal.requestId ?? request.context.awsRequestId;
  if (error instanceof HttpProblem) {
    return problemResponse(problemBody(error.status, error.code, error.title, error.detail, error.errors), requestId, error.headers);
  }
  if (error instanceof DomainError) {
    const status = statusOfKind[error.kind];
    const headers: Record<string, string> = {};
    if (error.extra.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.extra.retryAfterSeconds);
    const body = { ...problemBody(status, error.code, titleOf(status), error.message, error.extra.errors), ...error.extra.fields };
    return problemResponse(body, requestId, headers);
  }
  if (error instanceof BackendBusy) {
    // Rule 35: the database stayed busy through every retry; the caller may simply try again.
    const last = error.last as { name?: unknown } | undefined;
    internal.log?.warn('backend busy', { errorName: typeof last?.name === 'string' ? last.name : 'unknown' });
    return problemResponse(problemBody(503, 'busy', titleOf(503), error.message), requestId, {
      'retry-after': String(error.retryAfterSeconds),
    });
  }
  // Anything else is our fault: log its name (never its message, which may quote input) and answer generically.
  internal.log?.error('unhandled error', { errorName: error?.name ?? 'unknown' });
  return problemResponse(
    problemBody(500, 'internal-error', titleOf(500), `Something went wrong on our side. Quote request id ${requestId} if you contact support.`),
    requestId,
  );
}
