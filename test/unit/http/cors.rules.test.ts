/**
 * Mutation-testing rules for lambdas/http/cors.ts (issue 20): which routes answer CORS (only
 * staff routes and POST on the staff sign-in paths, whatever the table holds), what the deployer
 * is told about a bad origin list, how the Origin header is found, and that a route without CORS
 * adds nothing at all.
 */
import { describe, expect, it } from 'vitest';
import { answersCors, corsHeadersFor, localStaffOrigins, originOf, originProblem, parseStaffOrigins, preflightPolicy, StaffOriginsError } from '../../../lambdas/http/cors.ts';

describe('which routes answer CORS', () => {
  it('the staff sign-in paths answer CORS for public POST only: not GET, not a patient or lobby route on the same path', () => {
    expect(answersCors({ caller: 'public', method: 'POST', path: '/staff/sessions' })).toBe(true);
    expect(answersCors({ caller: 'public', method: 'POST', path: '/staff/sessions/challenge' })).toBe(true);
    expect(answersCors({ caller: 'public', method: 'GET', path: '/staff/sessions' })).toBe(false);
    expect(answersCors({ caller: 'patient', method: 'POST', path: '/staff/sessions' })).toBe(false);
    expect(answersCors({ caller: 'lobby', method: 'POST', path: '/staff/sessions' })).toBe(false);
    expect(answersCors({ method: 'POST', path: '/staff/sessions' })).toBe(false);
    expect(answersCors({ caller: 'public', method: 'POST', path: '/sessions' })).toBe(false);
    expect(answersCors({ caller: 'public', method: 'POST', path: '/staff/sessionsx' })).toBe(false);
  });

  it('a route with no request description still gets a preflight policy (content type, and authorization for staff)', () => {
    expect(preflightPolicy([{ caller: 'staff', method: 'DELETE', path: '/x' }])).toEqual({ methods: ['DELETE'], headers: ['authorization', 'content-type'] });
    expect(preflightPolicy([{ caller: 'public', method: 'POST', path: '/staff/sessions', request: {} }])).toEqual({ methods: ['POST'], headers: ['content-type'] });
  });

  it('a route without CORS adds no header at all, whatever the origin', () => {
    expect(corsHeadersFor({ caller: 'patient', method: 'GET', path: '/account' })({ Origin: 'https://ehr.practice.org' })).toEqual({});
  });
});

describe('the Origin header', () => {
  it('is found in any case, skipping a name without a value', () => {
    expect(originOf({ origin: undefined, ORIGIN: 'https://a.example' })).toBe('https://a.example');
    expect(originOf({ Origin: 'https://b.example' })).toBe('https://b.example');
    expect(originOf({ referer: 'https://c.example' })).toBeUndefined();
    expect(originOf(null)).toBeUndefined();
  });
});

describe('what the deployer is told', () => {
  it('"null" is refused as untrustworthy, not as a malformed URL', () => {
    expect(originProblem('null')).toMatch(/not an origin a client can be trusted by/);
  });

  it('a bad list throws StaffOriginsError naming every problem, joined by "; "', () => {
    let caught: unknown;
    try {
      parseStaffOrigins('*,http://ehr.practice.org');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StaffOriginsError);
    const err = caught as StaffOriginsError;
    expect(err.name).toBe('StaffOriginsError');
    expect(err.message).toMatch(/^staff origins: "\*" is not allowed.*; "http:\/\/ehr\.practice\.org" must use https/);
  });

  it('the local stack passes a given list on comma-separated', () => {
    expect(localStaffOrigins({ STAFF_ORIGINS: 'https://a.example, https://b.example' })).toBe('https://a.example,https://b.example');
  });
});
