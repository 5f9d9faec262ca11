/**
 * Every error answer is RFC 9457 problem+json, built here and nowhere else: `problemAnswer`
 * turns whatever a request threw (an HttpProblem, a DomainError, BackendBusy, anything else)
 * into its answer, and the handler chain (./handler-core.ts) only calls it.
 * Types are relative URIs under /problems/ so a client can switch on the last segment.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { BackendBusy, DomainError, type DomainErrorKind } from '../domain/errors.ts';
import type { Problem } from '../schemas/common.ts';
import type { Logger } from './logger.ts';

export interface FieldError {
  path: string;
  message: string;
}

/** An error that already knows its HTTP answer (bad input, missing auth, …). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(title);
    this.name = 'HttpProblem';
  }
}

export const statusOfKind: Record<DomainErrorKind, number> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  gone: 410,
  unprocessable: 422,
  'too-many-requests': 429,
  unavailable: 503,
};

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const titleOf = (status: number) => titles[status] ?? 'Error';

export function problemBody(status: number, code: string, title: string, detail?: string, errors?: FieldError[]): Problem {
  return {
    type: `/problems/${code}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function problemResponse(
  problem: Problem,
  requestId: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: problem.status,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'x-request-id': requestId,
      ...headers,
    },
    body: JSON.stringify(problem),
  };
}

export const badRequest = (errors: FieldError[], detail = 'The request is not valid.') =>
  new HttpProblem(400, 'validation-error', 'Bad Request', detail, errors);

export const unauthorized = (detail = 'A valid access token is required.') =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });

export const forbidden = (detail = 'Your role does not allow this.') =>
  new HttpProblem(403, 'forbidden', 'Forbidden', detail);

/**
 * The answer to an error thrown while handling a request. A DomainError's extra `fields` become
 * top-level members (e.g. resetAvailable); BackendBusy (rule 35) is 503 with Retry-After; anything
 * else is our fault: its name is logged (never its message, which may quote input) and the caller
 * gets a generic 500 that quotes the request id.
 */
export function problemAnswer(error: unknown, requestId: string, log?: Logger): APIGatewayProxyResult {
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
    log?.warn('backend busy', { errorName: typeof last?.name === 'string' ? last.name : 'unknown' });
    return problemResponse(problemBody(503, 'busy', titleOf(503), error.message), requestId, {
      'retry-after': String(error.retryAfterSeconds),
    });
  }
  const name = (error as { name?: unknown } | undefined)?.name;
  log?.error('unhandled error', { errorName: typeof name === 'string' ? name : 'unknown' });
  return problemResponse(
    problemBody(500, 'internal-error', titleOf(500), `Something went wrong on our side. Quote request id ${requestId} if you contact support.`),
    requestId,
  );
}
