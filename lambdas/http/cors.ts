/**
 * CORS for the practice's own staff web client (api.md, Conventions): one module, no domain
 * knowledge, used by the functions (actual answers, through the middy chain), the local server
 * (preflight) and the CDK stack (origins checked at synth, the preflight mock and the gateway's
 * own answers).
 *
 * Which routes: the staff routes (caller staff or admin) and the staff sign-in routes
 * (POST /staff/sessions, POST /staff/sessions/challenge). Patient routes and pages answer no
 * CORS at all: not even `Vary`.
 *
 * Which origins: a list the deployment states (`-c staffOrigins=https://a,https://b`, none without
 * it; locally STAFF_ORIGINS, default DEFAULT_LOCAL_ORIGINS). Each must be a bare origin (scheme, host, port;
 * no path), https, or http only on localhost / 127.0.0.1. `*` and `null` are refused: the
 * answer always names the one origin that asked, and only when it is listed.
 */

/** Locally, without STAFF_ORIGINS: a dev server (Vite's default port) on either loopback name. */
export const DEFAULT_LOCAL_ORIGINS: readonly string[] = ['http://localhost:5173', 'http://127.0.0.1:5173'];
/** What a staff client may send (lowercase, as browsers list them in Access-Control-Request-Headers). */
export const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'if-match'] as const;
/** What a staff client may read besides the CORS-safelisted response headers. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'etag'] as const;
/** How long a browser may cache a preflight answer (Chromium caps at 7200, Firefox at 86400). */
export const CORS_MAX_AGE_SECONDS = 600;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

/** Why `origin` cannot be a staff origin, or undefined when it can. */
export function originProblem(origin: string): string | undefined {
  if (origin === '*') return '"*" is not allowed: list each origin of the staff web client';
  if (origin === 'null') return '"null" is not an origin a client can be trusted by';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `"${origin}" is not a URL such as https://ehr.practice.org`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${origin}" must be https://host[:port]`;
  if (url.origin !== origin) {
    // Path, query, fragment, user info, a trailing slash, upper case or a default port: not what a browser sends.
    return `"${origin}" is not a bare origin; a browser sends ${url.origin}`;
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return `"${origin}" must use https (http only for localhost and 127.0.0.1)`;
  }
  return undefined;
}

export class StaffOriginsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`staff origins: ${problems.join('; ')}`);
    this.name = 'StaffOriginsError';
  }
}

/** A comma-separated list (or an array) of origins, checked; duplicates dropped; throws StaffOriginsError. */
export function parseStaffOrigins(list: string | readonly string[]): readonly string[] {
  const items = (typeof list === 'string' ? list.split(',') : list).map((o) => o.trim()).filter((o) => o !== '');
  const problems = items.flatMap((o) => originProblem(o) ?? []);
  if (problems.length > 0) throw new StaffOriginsError(problems);
  return [...new Set(items)];
}

/**
 * STAFF_ORIGINS as the functions read it: unset or empty → none (the stack sets it on the staff
 * functions only when `-c staffOrigins` is given; the local stack defaults it, localStaffOrigins).
 */
export function staffOriginsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): readonly string[] {
  return parseStaffOrigins(env.STAFF_ORIGINS ?? '');
}

/** The local stack's STAFF_ORIGINS: as given (empty → none), else DEFAULT_LOCAL_ORIGINS. */
export function localStaffOrigins(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.STAFF_ORIGINS === undefined ? DEFAULT_LOCAL_ORIGINS.join(',') : parseStaffOrigins(env.STAFF_ORIGINS).join(',');
}

// --- Which routes ---------------------------------------------------------------------------------

/** The parts of a route-table entry CORS looks at. */
export interface CorsRoute {
  readonly method: string;
  readonly path: string;
  readonly caller?: string;
  readonly request?: object;
}

const STAFF_SIGN_IN = /^\/staff\/sessions(\/[^/]+)*$/;

/** Staff routes and the staff sign-in routes answer CORS; patient routes and pages never do. */
export function answersCors(route: CorsRoute): boolean {
  if (route.caller === 'staff' || route.caller === 'admin') return true;
  return route.caller === 'public' && route.method === 'POST' && STAFF_SIGN_IN.test(route.path);
}

/** The request headers a route reads (its zod `headers` object's keys, lowercased). */
function declaredHeaders(route: CorsRoute): string[] {
  const shape = (route.request as { headers?: { shape?: Record<string, unknown> } } | undefined)?.headers?.shape;
  return Object.keys(shape ?? {}).map((h) => h.toLowerCase());
}

export interface PreflightPolicy {
  /** The CORS methods on this path, in route-table order. */
  readonly methods: readonly string[];
  /** The request headers those routes take, lowercase, from CORS_REQUEST_HEADERS. */
  readonly headers: readonly string[];
}

/**
 * What a preflight on one path template allows, from the routes on that path; undefined when
 * none of them answers CORS (then OPTIONS is not answered at all, as for any unknown method).
 */
export function preflightPolicy(routesOnPath: readonly CorsRoute[]): PreflightPolicy | undefined {
  const cors = routesOnPath.filter(answersCors);
  if (cors.length === 0) return undefined;
  const wanted = new Set<string>(['content-type']); // every answer and most requests are JSON
  for (const r of cors) {
    if (r.caller === 'staff' || r.caller === 'admin') wanted.add('authorization');
    for (const h of declaredHeaders(r)) wanted.add(h);
  }
  return {
    methods: [...new Set(cors.map((r) => r.method))],
    headers: CORS_REQUEST_HEADERS.filter((h) => wanted.has(h)),
  };
}

/** Groups the routes by path template and keeps the paths that answer a preflight. */
export function preflightPolicies(routes: readonly CorsRoute[]): Map<string, PreflightPolicy> {
  const policies = new Map<string, PreflightPolicy>();
  for (const path of new Set(routes.map((r) => r.path))) {
    const policy = preflightPolicy(routes.filter((r) => r.path === path));
    if (policy) policies.set(path, policy);
  }
  return policies;
}

// --- Answers --------------------------------------------------------------------------------------

// Every listed origin is a string (parseStaffOrigins), so no origin at all is never among them.
const allowed = (origin: string | undefined, origins: readonly string[]): origin is string => origins.some((o) => o === origin);

/**
 * The headers of a preflight answer (status 204, empty body): `Vary: Origin` always; the
 * Access-Control-Allow-* headers only for a listed origin, naming that origin.
 */
export function preflightHeaders(policy: PreflightPolicy, origin: string | undefined, origins: readonly string[]): Record<string, string> {
  if (!allowed(origin, origins)) return { vary: 'Origin' };
  return {
    vary: 'Origin',
    'access-control-allow-origin': origin,
    'access-control-allow-methods': policy.methods.join(', '),
    'access-control-allow-headers': policy.headers.join(', '),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
  };
}

/** The headers added to an actual answer of a CORS route: `Vary: Origin` always; allow and expose for a listed origin. */
export function actualHeaders(origin: string | undefined, origins: readonly string[]): Record<string, string> {
  if (!allowed(origin, origins)) return { vary: 'Origin' };
  return {
    vary: 'Origin',
    'access-control-allow-origin': origin,
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
  };
}

/** The Origin header of a proxy event (any case), if any. */
export function originOf(headers: Readonly<Record<string, string | undefined>> | null | undefined): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === 'origin' && v !== undefined) return v;
  return undefined;
}

/**
 * The answer headers of the functions, added by handler-core.ts after the answer (success or
 * problem+json) is built. Routes that do not answer CORS get nothing; the origin list is read
 * once per cold start (STAFF_ORIGINS).
 */
export function corsHeadersFor(route: CorsRoute): (requestHeaders: Readonly<Record<string, string | undefined>> | null | undefined) => Record<string, string> {
  if (!answersCors(route)) return () => ({});
  let origins: readonly string[] | undefined;
  return (requestHeaders) => {
    origins ??= staffOriginsFromEnv();
    return actualHeaders(originOf(requestHeaders), origins);
  };
}
