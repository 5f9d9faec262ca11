/**
 * Mutation-testing rules for lambdas/http/parse.ts (issue 20): api.md's input conventions, on a
 * route of the test's own (path, query, a declared header, a JSON body), straight through
 * parseRequest: 413 over 16 KiB (bytes, not characters), 415 for a body that is not JSON, 400 for
 * an empty or malformed body, and one `errors` entry per bad field, unknown fields included,
 * gathered from every part of the request at once.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Route } from '../../../lib/routes.ts';
import { maxBodyBytes, parseRequest } from '../../../lambdas/http/parse.ts';
import { HttpProblem } from '../../../lambdas/http/problems.ts';

const withBody = {
  request: {
    params: z.strictObject({ patientId: z.string().check(z.minLength(3)) }),
    query: z.strictObject({ limit: z.optional(z.string().check(z.regex(/^\d+$/))) }),
    headers: z.strictObject({ 'if-match': z.string().check(z.regex(/^"\d+"$/)) }),
    body: z.strictObject({ name: z.string(), tags: z.optional(z.array(z.string())) }),
  },
} as unknown as Route;
const withoutBody = { request: { params: z.strictObject({ patientId: z.string() }) } } as unknown as Route;

function event(change: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    headers: { 'Content-Type': 'application/json', 'If-Match': '"3"' },
    pathParameters: { patientId: 'P-1' },
    queryStringParameters: { limit: '10' },
    body: JSON.stringify({ name: 'x' }),
    isBase64Encoded: false,
    ...change,
  } as APIGatewayProxyEvent;
}

function problem(f: () => unknown): HttpProblem {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpProblem);
    return err as HttpProblem;
  }
  throw new Error('not refused');
}

describe('a good request', () => {
  it('parses every part; header names in any case; only declared headers are checked', () => {
    const parsed = parseRequest(withBody, event({ headers: { 'CONTENT-TYPE': 'application/json', 'if-MATCH': '"3"', 'X-Other': 'anything', Cookie: 'c' } }));
    expect(parsed).toEqual({ params: { patientId: 'P-1' }, query: { limit: '10' }, headers: { 'if-match': '"3"' }, body: { name: 'x' } });
  });

  it('a base64 body is decoded before it is read', () => {
    const body = Buffer.from(JSON.stringify({ name: 'é' }), 'utf8').toString('base64');
    expect(parseRequest(withBody, event({ body, isBase64Encoded: true })).body).toEqual({ name: 'é' });
  });

  it('JSON media types with a suffix, parameters or in upper case are JSON; no content type is read as JSON', () => {
    for (const type of ['application/json', 'application/merge-patch+json; charset=utf-8', 'APPLICATION/JSON', 'application/json ;charset=utf-8', 'application/vnd.api+json']) {
      expect(parseRequest(withBody, event({ headers: { 'content-type': type, 'if-match': '"3"' } })).body, type).toEqual({ name: 'x' });
    }
    expect(parseRequest(withBody, event({ headers: { 'if-match': '"3"' } })).body).toEqual({ name: 'x' });
  });

  it('a route without a body schema never reads the body (a GET with junk is fine), nor parts it does not declare', () => {
    expect(parseRequest(withoutBody, event({ body: '{not json', headers: { 'content-type': 'text/plain' }, queryStringParameters: { junk: '1' } }))).toEqual({
      params: { patientId: 'P-1' },
      query: undefined,
      headers: undefined,
      body: undefined,
    });
  });

  it('missing path and query parameters are read as empty objects, and a header that is not a string is ignored', () => {
    const optional = {
      request: { params: z.strictObject({}), query: z.strictObject({}), headers: z.strictObject({ 'if-match': z.optional(z.string()) }) },
    } as unknown as Route;
    const parsed = parseRequest(optional, event({ pathParameters: null, queryStringParameters: null, headers: { 'if-match': undefined } as never }));
    expect(parsed).toEqual({ params: {}, query: {}, headers: {}, body: undefined });
    expect(parseRequest(optional, event({ pathParameters: null, queryStringParameters: null, headers: null as never })).headers).toEqual({});
  });

  it('a header value that is not a string (null, a number) is not read, and an optional declared header left out is absent, not undefined', () => {
    const optional = { request: { headers: z.strictObject({ 'if-match': z.optional(z.string()) }) } } as unknown as Route;
    for (const value of [null, 3]) {
      expect(parseRequest(optional, event({ headers: { 'If-Match': value } as never })).headers, String(value)).toStrictEqual({});
    }
    const parsed = parseRequest(optional, event({ headers: { 'content-type': 'application/json' } }));
    expect(parsed.headers).toStrictEqual({});
    expect(Object.keys(parsed.headers as object)).toEqual([]);
  });
});

describe('api.md conventions: 413, 415, 400', () => {
  it('a body over 16 KiB in UTF-8 bytes is 413, even when its characters are fewer; exactly 16 KiB is read', () => {
    const pad = (bytes: number, char: string) => JSON.stringify({ name: char.repeat(Math.floor((bytes - 11) / Buffer.byteLength(char))) });
    const atLimit = JSON.stringify({ name: 'a'.repeat(maxBodyBytes - 11) });
    expect(Buffer.byteLength(atLimit)).toBe(maxBodyBytes);
    expect(parseRequest(withBody, event({ body: atLimit })).body).toEqual({ name: 'a'.repeat(maxBodyBytes - 11) });
    const over = problem(() => parseRequest(withBody, event({ body: `${atLimit} ` })));
    expect([over.status, over.code]).toEqual([413, 'payload-too-large']);
    const wide = pad(maxBodyBytes + 30, 'é');
    expect(wide.length).toBeLessThan(maxBodyBytes);
    expect(problem(() => parseRequest(withBody, event({ body: wide }))).status).toBe(413);
    expect(maxBodyBytes).toBe(16 * 1024);
  });

  it('a base64 body counts its decoded size', () => {
    const raw = JSON.stringify({ name: 'a'.repeat(maxBodyBytes - 11) });
    expect(parseRequest(withBody, event({ body: Buffer.from(raw).toString('base64'), isBase64Encoded: true })).body).toEqual({ name: 'a'.repeat(maxBodyBytes - 11) });
  });

  it('a body that is not JSON by its media type is 415', () => {
    for (const type of ['text/plain', 'application/jsonx', 'xapplication/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const err = problem(() => parseRequest(withBody, event({ headers: { 'content-type': type, 'if-match': '"3"' } })));
      expect([err.status, err.code], type).toEqual([415, 'unsupported-media-type']);
    }
  });

  it('an empty or blank body is 400 "a JSON object is required"; malformed JSON is 400 on body', () => {
    for (const body of [null, '', '  \n ']) {
      const err = problem(() => parseRequest(withBody, event({ body })));
      expect([err.status, err.code, err.errors], String(body)).toEqual([400, 'validation-error', [{ path: 'body', message: 'a JSON object is required' }]]);
    }
    const err = problem(() => parseRequest(withBody, event({ body: '{"name": ' })));
    expect([err.status, err.code, err.errors]).toEqual([400, 'validation-error', [{ path: 'body', message: 'is not valid JSON' }]]);
    expect(err.detail).toBe('The body is not valid JSON.');
  });

  it('every bad field of every part at once, one entry each, unknown fields by name, nested paths joined with dots', () => {
    const err = problem(() =>
      parseRequest(
        withBody,
        event({
          pathParameters: { patientId: 'P' },
          queryStringParameters: { limit: 'ten' },
          headers: { 'content-type': 'application/json', 'if-match': 'W/"3"' },
          body: JSON.stringify({ name: 7, tags: ['ok', 3], extra: 1, more: 2 }),
        }),
      ),
    );
    expect([err.status, err.code]).toEqual([400, 'validation-error']);
    expect(err.errors!.map((e) => e.path).sort()).toEqual(['body.extra', 'body.more', 'body.name', 'body.tags.1', 'header.if-match', 'path.patientId', 'query.limit'].sort());
    expect(err.errors!.filter((e) => e.path === 'body.extra' || e.path === 'body.more').map((e) => e.message)).toEqual(['is not a known field', 'is not a known field']);
    expect(err.errors!.find((e) => e.path === 'body.name')!.message).toMatch(/expected string/);
  });

  it('a missing declared header is a 400 on that header', () => {
    const err = problem(() => parseRequest(withBody, event({ headers: { 'content-type': 'application/json' } })));
    expect(err.errors).toEqual([{ path: 'header.if-match', message: expect.any(String) }]);
  });
});
