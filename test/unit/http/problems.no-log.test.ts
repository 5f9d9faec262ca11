/**
 * Mutation-testing rules for lambdas/http/problems.ts (issue 20): the logger is optional (the
 * local server and tests answer problems without one), and an HttpProblem names itself.
 */
import { describe, expect, it } from 'vitest';
import { BackendBusy } from '../../../lambdas/domain/errors.ts';
import { HttpProblem, problemAnswer, unauthorized } from '../../../lambdas/http/problems.ts';

describe('problemAnswer without a logger', () => {
  it('rule 35: BackendBusy is still 503 with Retry-After', () => {
    const a = problemAnswer(new BackendBusy(3, { name: 'ThrottlingException' }), 'req-9');
    expect([a.statusCode, a.headers?.['retry-after'], JSON.parse(a.body).type]).toEqual([503, '3', '/problems/busy']);
  });

  it('rule 21: anything else is still a generic 500 quoting the request id', () => {
    const a = problemAnswer(new TypeError('secret detail'), 'req-9');
    expect(a.statusCode).toBe(500);
    expect(a.body).toContain('req-9');
    expect(a.body).not.toContain('secret detail');
  });
});

it('an HttpProblem is named HttpProblem (what a stack trace or a log of its name shows)', () => {
  expect(unauthorized().name).toBe('HttpProblem');
  expect(new HttpProblem(418, 'teapot', 'Teapot').name).toBe('HttpProblem');
});
