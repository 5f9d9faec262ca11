/**
 * The chain every handler runs, in order,
 *   1. request context: request id, logger, timing;
 *   2. authentication: the caller rule from the route table, by the `authenticate` it is given;
 *   3. parsing: body size, JSON, and the route's zod schemas for path, query, headers and body;
 * then the handler's own function, which gets typed input and returns a status and a body typed
 * by the route's `responses` (see `Output`); and any error becomes problem+json through
 * ./problems.ts. Handlers do not import this: they use `defineHandler` from ./handler.ts (any
 * route), ./public-handler.ts (public routes) or ./standalone-handler.ts (public routes with no
 * grants), each given the handler's own flow's routes (lib/routes/<flow>.ts) and its route id.
 * It imports no authenticator, so a public function's bundle carries no token checks and none of
 * the AWS clients they need.
 *
 * Why no middy (issue 14 item 6): this chain was a @middy/core chain of two inline middlewares,
 * and none of middy's own middlewares replaces code of ours without breaking the contract
 * (api.md): @middy/http-json-body-parser answers malformed JSON with 415 (422 before v5) where we
 * must answer 400 with an `errors` entry, and refuses a body with no content-type, which we
 * accept; @middy/http-error-handler answers http-errors as plain text, not RFC 9457 problem+json,
 * and knows nothing of DomainError, BackendBusy's Retry-After or our field errors;
 * @middy/http-header-normalizer replaces three lines. (None of them is installed either.) What was
 * left of middy was a try/catch around three awaits, the parsed input smuggled to the handler on
 * the Lambda context, and one more package in every bundle. A plain function says the order
 * above in twenty lines. (@middy/core can leave package.json once no branch imports it.)
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
// Types only: the chain takes its route as an argument, and a handler names its route in its own
// flow's file (lib/routes/<flow>.ts), so a function bundles that flow's entries and request
// schemas, not the whole table (issue 16).
import type { Caller, Route, RouteId, routes } from '../../lib/routes.ts';
import type { SchemaRef } from '../../lib/routes/types.ts';
import type { StaffPrincipal } from './auth.ts';
import type { LobbyPrincipal } from './lobby-auth.ts';
import type { PatientPrincipal } from './patient-auth.ts';
import { createLogger, type Logger } from './logger.ts';
import { problemAnswer } from './problems.ts';
import { parseRequest } from './parse.ts';
import { callerContext } from './caller-context.ts';
import { corsHeadersFor } from './cors.ts';
import type { CallerContext } from '../domain/ports.ts';

export type RouteOf<Id extends RouteId> = Extract<(typeof routes)[number], { id: Id }>;

/**
 * An entry of the gathered table. `defineHandler` takes a flow's routes as `readonly TableRoute[]`
 * rather than `readonly Route[]`: only a constraint made of the table's own entries keeps a
 * handler's `status: 201` a literal while tsc infers its answer (with `Route` it widens to
 * `number` and every handler fails to type-check), and it makes a flow file missing from the
 * table a type error in its handlers.
 */
export type TableRoute = (typeof routes)[number];

/** The entry of route `Id` among a flow's routes (lib/routes/<flow>.ts): the same object the table holds. */
export type RouteIn<Rs extends readonly Route[], Id extends string> = Extract<Rs[number], { id: Id }>;

/**
 * The entry of route `id` among `flowRoutes`. The types already require the id to be there; this
 * is the cold-start guard for a file edited later.
 */
export function routeIn<const Rs extends readonly Route[], const Id extends string>(flowRoutes: Rs, id: Id): RouteIn<Rs, Id> {
  const found = flowRoutes.find((r) => r.id === id);
  if (!found) throw new Error(`no route ${id} among the routes this handler was given`);
  return found as RouteIn<Rs, Id>;
}
type Parsed<S> = S extends z.ZodMiniType ? z.output<S> : undefined;
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

type ContentOf<R> = R extends { content: infer C } ? C : 'json';

/**
 * What one declared status answers: a JSON route's schema types `body` (z.output of it, what the
 * OpenAPI document shows); a page's or browser file's success is `text` (its content-type comes
 * from `headers`); a status declared `null` answers no body (204).
 */
type AnswerFor<S, C> = S extends SchemaRef<infer T>
  ? AnswerFor<T, C>
  : S extends z.ZodMiniType
    ? C extends 'html' | 'asset'
      ? { text: string; body?: never }
      : { body: z.output<S>; text?: never }
    : { body?: never; text?: never };

/**
 * A handler's answer, typed by its route's `responses` (status → zod schema): a status the route
 * does not declare, or a body its schema does not allow, fails `tsc` in the handler file. Errors
 * are thrown (HttpProblem, DomainError) and answered as problem+json by ./problems.ts.
 */
export type Output<R extends Route = Route> = R extends { responses: infer Rs }
  ? { [S in keyof Rs & number]: { status: S; headers?: Record<string, string> } & AnswerFor<Rs[S], ContentOf<R>> }[keyof Rs & number]
  : never;

export function buildHandler<const R extends Route>(route: R, run: (input: Input<R>) => Promise<Output<R>>, authenticate: Authenticate) {
  const corsHeaders = corsHeadersFor(route);
  return async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const started = performance.now();
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const log = createLogger({ requestId, route: route.id });
    let response: APIGatewayProxyResult;
    try {
      const principal = await authenticate(route.caller, header(event, 'authorization'));
      const parsed = parseRequest(route, event);
      const input = {
        ...parsed,
        principal,
        requestId,
        sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
        callerContext: callerContext(event),
        log,
      } as unknown as Input<R>;
      const out = (await run(input)) as Output;
      response = {
        statusCode: out.status,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...out.headers },
        body: out.text ?? (out.body === undefined ? '' : JSON.stringify(out.body)),
      };
    } catch (error) {
      response = problemAnswer(error, requestId, log);
    }
    // Last, so every answer of a staff route carries them, problems included (api.md, CORS).
    response.headers = { ...response.headers, 'x-request-id': requestId, ...corsHeaders(event.headers) };
    log.info('request', { method: event.httpMethod, status: response.statusCode, durationMs: Math.round(performance.now() - started) });
    return response;
  };
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v !== undefined) return v;
  return undefined;
}
