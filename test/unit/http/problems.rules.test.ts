/**
 * Mutation-testing rules for lambdas/http/problems.ts (issue 20): every error answer is
 * problem+json with the right status, type, headers, and nothing internal (rules 21 and 35).
 */
import { describe, expect, it } from 'vitest';
import { BackendBusy, DomainError } from '../../../lambdas/domain/errors.ts';
import type { Logger } from '../../../lambdas/http/logger.ts';
import { badRequest, forbidden, HttpProblem, problemAnswer, problemBody, statusOfKind, titleOf, unauthorized } from '../../../lambdas/http/problems.ts';

function recorder() {
  const lines: [string, string, unknown][] = [];
  const log: Logger = {
    info: (m, f) => void lines.push(['info', m, f]),
    warn: (m, f) => void lines.push(['warn', m, f]),
    error: (m, f) => void lines.push(['error', m, f]),
  };
  return { lines, log };
}

const body = (a: { body: string }) => JSON.parse(a.body) as Record<string, unknown>;
const baseHeaders = { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'x-request-id': 'req-1' };

describe('problem+json answers', () => {
  it('a domain kind maps to its status', () => {
    expect(statusOfKind).toEqual({
      'bad-request': 400,
      unauthorized: 401,
      forbidden: 403,
      'not-found': 404,
      conflict: 409,
      gone: 410,
      unprocessable: 422,
      'too-many-requests': 429,
      unavailable: 503,
    });
    expect([400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 503].map(titleOf).every((t) => t !== 'Error')).toBe(true);
    expect(titleOf(418)).toBe('Error');
    expect(titleOf(410)).toBe('Gone');
  });

  it('the body: type under /problems/, title, status; detail and errors only when there are some', () => {
    expect(problemBody(404, 'not-found', 'Not Found')).toEqual({ type: '/problems/not-found', title: 'Not Found', status: 404 });
    expect(problemBody(400, 'v', 'Bad Request', '', [])).toEqual({ type: '/problems/v', title: 'Bad Request', status: 400 });
    expect(problemBody(400, 'v', 'Bad Request', 'd', [{ path: 'body.x', message: 'm' }])).toEqual({
      type: '/problems/v',
      title: 'Bad Request',
      status: 400,
      detail: 'd',
      errors: [{ path: 'body.x', message: 'm' }],
    });
  });

  it('an HttpProblem answers its own status, code and headers, never cached, with the request id', () => {
    const a = problemAnswer(unauthorized(), 'req-1');
    expect(a.statusCode).toBe(401);
    expect(a.headers).toEqual({ ...baseHeaders, 'www-authenticate': 'Bearer' });
    expect(body(a)).toMatchObject({ type: '/problems/unauthorized', status: 401 });
    expect(problemAnswer(forbidden(), 'req-1').statusCode).toBe(403);
    const bad = problemAnswer(badRequest([{ path: 'body.a', message: 'm' }]), 'req-1');
    expect([bad.statusCode, body(bad).type, body(bad).errors]).toEqual([400, '/problems/validation-error', [{ path: 'body.a', message: 'm' }]]);
    expect(problemAnswer(new HttpProblem(413, 'payload-too-large', 'Content Too Large'), 'req-1').headers).toEqual(baseHeaders);
  });

  it('a DomainError answers its kind status with Retry-After when it has one, and its extra fields at the top level', () => {
    const a = problemAnswer(new DomainError('too-many-requests', 'too-many-attempts', 'wait', { retryAfterSeconds: 30, fields: { resetAvailable: true } }), 'req-1');
    expect(a.statusCode).toBe(429);
    expect(a.headers).toEqual({ ...baseHeaders, 'retry-after': '30' });
    expect(body(a)).toEqual({ type: '/problems/too-many-attempts', title: 'Too Many Requests', status: 429, detail: 'wait', resetAvailable: true });
    const b = problemAnswer(new DomainError('gone', 'reset-link-gone', 'gone'), 'req-1');
    expect(b.headers).toEqual(baseHeaders);
    expect(body(b)).toEqual({ type: '/problems/reset-link-gone', title: 'Gone', status: 410, detail: 'gone' });
    const c = problemAnswer(new DomainError('too-many-requests', 'x', 'now', { retryAfterSeconds: 0 }), 'req-1');
    expect(c.headers?.['retry-after']).toBe('0');
  });

  it('rule 35: BackendBusy is 503 busy with Retry-After, logging only the backend error name', () => {
    const { lines, log } = recorder();
    const a = problemAnswer(new BackendBusy(2, Object.assign(new Error('secret detail'), { name: 'ProvisionedThroughputExceededException' })), 'req-1', log);
    expect(a.statusCode).toBe(503);
    expect(a.headers).toEqual({ ...baseHeaders, 'retry-after': '2' });
    expect(body(a)).toMatchObject({ type: '/problems/busy', status: 503 });
    expect(lines).toEqual([['warn', 'backend busy', { errorName: 'ProvisionedThroughputExceededException' }]]);
    const again = recorder();
    problemAnswer(new BackendBusy(1, { name: 42 }), 'req-1', again.log);
    problemAnswer(new BackendBusy(1), 'req-1', again.log);
    expect(again.lines.map((l) => l[2])).toEqual([{ errorName: 'unknown' }, { errorName: 'unknown' }]);
  });

  it('rule 21: anything else is 500 internal-error quoting the request id; only the error name is logged, never its message', () => {
    const { lines, log } = recorder();
    const a = problemAnswer(Object.assign(new Error('patient jane@example.test'), { name: 'TypeError' }), 'req-9', log);
    expect(a.statusCode).toBe(500);
    expect(body(a)).toMatchObject({ type: '/problems/internal-error', status: 500, title: 'Internal Server Error' });
    expect(String(body(a).detail)).toContain('req-9');
    expect(a.body).not.toContain('jane');
    expect(lines).toEqual([['error', 'unhandled error', { errorName: 'TypeError' }]]);
    const other = recorder();
    problemAnswer('a string', 'req-9', other.log);
    problemAnswer(undefined, 'req-9', other.log);
    expect(other.lines.map((l) => l[2])).toEqual([{ errorName: 'unknown' }, { errorName: 'unknown' }]);
  });
});
