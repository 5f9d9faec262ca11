/**
 * The local API Gateway: a node:http server that routes each request by the route table, turns
 * it into a REST v1 proxy event, calls the route's handler module and writes what it returns.
 * Handler modules are imported on first use, so process.env must be complete before the first
 * request (the stack starts this server last).
 */
import { randomUUID } from 'node:crypto';
import { createServer, validateHeaderName, validateHeaderValue, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { lambdaContext, toProxyEvent, type MatchedRoute } from './event.ts';
import type { TestClock } from './test-clock.ts';
import { originOf, preflightHeaders, preflightPolicies, type PreflightPolicy } from '../../lambdas/http/cors.ts';

/** API Gateway's payload limit; the handlers enforce the contract's 16 KiB themselves. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** How much of an over-limit body is read and discarded (to keep the connection) before hanging up. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RouteEntry {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  /** Module path relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Who may call it and what it reads (lib/routes): which paths answer a CORS preflight. */
  readonly caller?: string;
  readonly request?: object;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<unknown>;

// --- Routing ------------------------------------------------------------------------------------

interface PathTemplate {
  template: string;
  pattern: RegExp | null; // null: no parameters, matched by exact string
  names: string[];
  byMethod: Map<string, RouteEntry>;
  allow: string;
}

export interface Router {
  match(path: string): PathTemplate | undefined;
}

/** Groups the routes by path template; static templates are found by lookup, then parameterised ones. */
export function createRouter(routes: readonly RouteEntry[]): Router {
  const templates = new Map<string, PathTemplate>();
  for (const route of routes) {
    let t = templates.get(route.path);
    if (!t) {
      t = { template: route.path, ...compile(route.path), byMethod: new Map(), allow: '' };
      templates.set(route.path, t);
    }
    if (t.byMethod.has(route.method)) throw new Error(`two routes for ${route.method} ${route.path}`);
    t.byMethod.set(route.method, route);
    t.allow = [...t.byMethod.keys()].join(', ');
  }
  const exact = new Map([...templates.values()].filter((t) => !t.pattern).map((t) => [t.template, t]));
  // API Gateway prefers the more specific resource: fewer parameters first.
  const dynamic = [...templates.values()]
    .filter((t) => t.pattern)
    .sort((a, b) => a.names.length - b.names.length || b.template.length - a.template.length);
  return {
    match: (path) => exact.get(path) ?? dynamic.find((t) => t.pattern!.test(path)),
  };
}

function compile(template: string): { pattern: RegExp | null; names: string[] } {
  const names: string[] = [];
  const segments = template.split('/').map((segment) => {
    const param = /^\{(\w+)(\+)?\}$/.exec(segment);
    if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    names.push(param[1] as string);
    return param[2] ? '(.+)' : '([^/]+)'; // {proxy+} spans segments
  });
  return names.length === 0 ? { pattern: null, names } : { pattern: new RegExp(`^${segments.join('/')}$`), names };
}

/** Decoded path parameters; throws URIError on a malformed percent-escape. */
function pathParameters(t: PathTemplate, path: string): Record<string, string> | null {
  if (!t.pattern) return null;
  const values = t.pattern.exec(path)!;
  const params: Record<string, string> = {};
  t.names.forEach((name, i) => {
    params[name] = decodeURIComponent(values[i + 1] as string);
  });
  return params;
}

// --- Handlers -----------------------------------------------------------------------------------

const handlers = new Map<string, Promise<Handler>>();
/** Handlers already imported: called without awaiting the import's promise again (a microtask hop per request). */
const loaded = new Map<string, Handler>();

function loadHandler(route: RouteEntry): Promise<Handler> {
  let loading = handlers.get(route.entry);
  if (!loading) {
    const url = pathToFileURL(resolve(REPO_ROOT, route.entry)).href;
    loading = import(/* @vite-ignore */ url).then((module: { handler?: unknown }) => {
      if (typeof module.handler !== 'function') throw new Error(`${route.entry} exports no handler function`);
      loaded.set(route.entry, module.handler as Handler);
      return module.handler as Handler;
    });
    // A failed import is retried on the next request (the file may have been fixed meanwhile).
    loading.catch(() => handlers.delete(route.entry));
    handlers.set(route.entry, loading);
  }
  return loading;
}

/** Imports every handler now, so a broken module shows at start rather than at first request. */
export async function preloadHandlers(routes: readonly RouteEntry[]): Promise<string[]> {
  const results = await Promise.allSettled(routes.map(loadHandler));
  return results.flatMap((r, i) => (r.status === 'rejected' ? [`${routes[i]!.entry}: ${String(r.reason)}`] : []));
}

// --- Server -------------------------------------------------------------------------------------

export interface ServerOptions {
  /**
   * Test mode only: `PUT /__test/clock` {offsetMs} moves this clock, the one the stack passed to
   * the handlers (lib/local/test-clock.ts), so tests check expiry without sleeping. Never in `npm start`.
   */
  testClock?: TestClock;
  /** The staff web client's origins (STAFF_ORIGINS): OPTIONS on a staff path answers their preflight. */
  staffOrigins?: readonly string[];
}

interface Cors {
  origins: readonly string[];
  /** By path template: the paths with a staff route (lambdas/http/cors.ts). */
  preflights: ReadonlyMap<string, PreflightPolicy>;
}

export function createApiServer(routes: readonly RouteEntry[], options: ServerOptions = {}): Server {
  const router = createRouter(routes);
  const cors: Cors = { origins: options.staffOrigins ?? [], preflights: preflightPolicies(routes) };
  const respond = (req: IncomingMessage, res: ServerResponse) => {
    if (options.testClock && req.url === '/__test/clock' && req.method === 'PUT') {
      setTestClock(options.testClock, req, res);
      return;
    }
    handle(router, req, res, cors).catch((err: unknown) => {
      // Only reached when reading the request or writing the response failed (the client went away).
      log('warn', 'request aborted', { error: describe(err) });
      res.destroy();
    });
  };
  const server = createServer(respond);
  // Expect: 100-continue: invite the body only when it may be accepted, so an over-limit upload
  // gets its 413 before it is sent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > MAX_BODY_BYTES)) res.writeContinue();
    respond(req, res);
  });
  return server;
}

function setTestClock(clock: TestClock, req: IncomingMessage, res: ServerResponse): void {
  readBody(req)
    .then((body) => {
      clock.setOffset(Number((JSON.parse(body?.toString('utf8') ?? '{}') as { offsetMs?: unknown }).offsetMs));
      res.writeHead(204).end();
    })
    .catch(() => res.writeHead(400).end());
}

async function handle(router: Router, req: IncomingMessage, res: ServerResponse, cors: Cors): Promise<void> {
  const receivedAt = Date.now();
  const requestId = randomUUID();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';

  const template = router.match(path);
  if (!template) return answerEarly(req, res, problem(404, 'not-found', 'Not Found'), requestId);
  const route = template.byMethod.get(method);
  const preflight = method === 'OPTIONS' ? cors.preflights.get(template.template) : undefined;
  if (!route && preflight) return answerPreflight(req, res, preflight, cors.origins, requestId);
  if (!route) {
    return answerEarly(req, res, problem(405, 'method-not-allowed', 'Method Not Allowed'), requestId, { allow: template.allow });
  }
  let params: Record<string, string> | null;
  try {
    params = pathParameters(template, path);
  } catch {
    return answerEarly(req, res, problem(400, 'bad-request', 'Bad Request', 'The path is not validly percent-encoded.'), requestId);
  }
  // No body declared: no promise to wait for (readBody would answer EMPTY anyway).
  const bodyless = req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] === undefined || req.headers['content-length'] === '0');
  const body = bodyless ? EMPTY : await readBody(req);
  if (!body) return answerEarly(req, res, problem(413, 'payload-too-large', 'Content Too Large'), requestId);

  const matched: MatchedRoute = { id: route.id, template: template.template, pathParameters: params };
  const event = toProxyEvent(
    {
      method,
      path,
      query: q === -1 ? '' : url.slice(q + 1),
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      receivedAt,
    },
    matched,
  );
  let result: unknown;
  try {
    const handler = loaded.get(route.entry) ?? (await loadHandler(route));
    result = await handler(event, lambdaContext(route.id, receivedAt));
  } catch (err) {
    log('error', 'handler failed', { requestId, route: route.id, error: describe(err) });
    return send(res, problem(500, 'internal-error', 'Internal Server Error', undefined, requestId), requestId);
  }
  if (!writeResult(res, result)) {
    log('error', 'handler returned an invalid result', { requestId, route: route.id, result: typeof result });
    send(res, problem(500, 'internal-error', 'Internal Server Error', undefined, requestId), requestId);
  }
}

const EMPTY = Buffer.alloc(0);

/** The body, or undefined when it exceeds MAX_BODY_BYTES (answerEarly() then discards the rest). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const declared = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (declared === undefined || declared === '0')) {
    return Promise.resolve(EMPTY);
  }
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (settle: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) done(() => resolve(undefined));
      else chunks.push(chunk);
    };
    const onEnd = () => done(() => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    const onError = (err: Error) => done(() => reject(err));
    const onClose = () => done(() => reject(new Error('the client closed the connection mid-request')));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

// --- Responses ----------------------------------------------------------------------------------

interface Problem {
  status: number;
  json: string;
}

function problem(status: number, type: string, title: string, detail?: string, requestId?: string): Problem {
  return { status, json: JSON.stringify({ type: `/problems/${type}`, title, status, detail, requestId }) };
}

function send(res: ServerResponse, p: Problem, requestId: string, extra: Record<string, string> = {}): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.writeHead(p.status, {
    ...extra,
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(p.json),
    'x-request-id': requestId,
  });
  res.end(p.json);
}

/** Answers without calling a handler; whatever body the client still sends is read and dropped. */
function answerEarly(req: IncomingMessage, res: ServerResponse, p: Problem, requestId: string, extra?: Record<string, string>): void {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) req.destroy();
  });
  req.resume();
  send(res, p, requestId, extra);
}

/** A CORS preflight, as the stack's OPTIONS mock answers it: 204, no body, no function called. */
function answerPreflight(req: IncomingMessage, res: ServerResponse, policy: PreflightPolicy, origins: readonly string[], requestId: string): void {
  req.resume();
  const origin = originOf(req.headers as Record<string, string | undefined>);
  res.writeHead(204, { ...preflightHeaders(policy, origin, origins), 'x-request-id': requestId }).end();
}

type HeaderValue = string | number | boolean;
const isHeaderValue = (v: unknown): v is HeaderValue =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Writes an APIGatewayProxyResult the way API Gateway would: multiValueHeaders win over headers
 * of the same name (any case), Content-Type defaults to application/json. False when the result
 * is not one, or names a header node refuses to send (nothing is written then).
 *
 * The head goes out in one writeHead(status, headers) with every header, as the bare server of
 * the bench writes it (issue 16 item 5): node's fast path, without a setHeader call per header,
 * each validated and stored in the response's header map, only to be read back by writeHead
 * (~2% of a /health request's CPU, profiled with node --cpu-prof under autocannon).
 */
function writeResult(res: ServerResponse, result: unknown): boolean {
  if (!isRecord(result)) return false;
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = result as Partial<APIGatewayProxyResult>;
  if (!Number.isInteger(statusCode) || statusCode! < 100 || statusCode! > 599) return false;
  if (body !== undefined && body !== null && typeof body !== 'string') return false;
  // By lower-case name, as node's own header map: a later name replaces an earlier one in place.
  const head = new Map<string, [name: string, value: string | string[]]>();
  try {
    if (headers !== undefined) {
      if (!isRecord(headers)) return false;
      for (const name of Object.keys(headers)) {
        const value = headers[name];
        if (!isHeaderValue(value)) return false;
        const text = String(value);
        validateHeaderName(name);
        validateHeaderValue(name, text);
        head.set(name.toLowerCase(), [name, text]);
      }
    }
    if (multiValueHeaders !== undefined) {
      if (!isRecord(multiValueHeaders)) return false;
      for (const name of Object.keys(multiValueHeaders)) {
        const values = multiValueHeaders[name];
        if (!Array.isArray(values) || !values.every(isHeaderValue)) return false;
        const texts = values.map(String);
        validateHeaderName(name);
        for (const text of texts) validateHeaderValue(name, text);
        head.set(name.toLowerCase(), [name, texts]);
      }
    }
  } catch {
    return false; // an invalid header name or value (node refuses to send it)
  }
  if (!head.has('content-type')) head.set('content-type', ['content-type', 'application/json']);
  // A text body goes to res.end as a string: node then sends the head and the body in one write
  // (a Buffer is a second chunk, a writev per response: ~15% of a /health request's CPU, profiled
  // with node --cpu-prof under autocannon).
  const payload = body && isBase64Encoded ? Buffer.from(body, 'base64') : (body ?? '');
  const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  head.set('content-length', ['content-length', String(length)]);
  // Flat name, value, name, value…: a header with several values is repeated, as setHeader(name, [...]) sends it.
  const flat: string[] = [];
  for (const [name, value] of head.values()) {
    if (typeof value === 'string') flat.push(name, value);
    else for (const v of value) flat.push(name, v);
  }
  res.writeHead(statusCode!, flat);
  if (typeof payload === 'string') res.end(payload, 'utf8');
  else res.end(payload);
  return true;
}

// --- Logging ------------------------------------------------------------------------------------

function describe(err: unknown): { name: string; message: string; stack?: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message, stack: err.stack }
    : { name: 'NonError', message: String(err) };
}

function log(level: 'error' | 'warn', message: string, fields: Record<string, unknown>): void {
  console.error(JSON.stringify({ level, time: new Date().toISOString(), source: 'local-api', message, ...fields }));
}
