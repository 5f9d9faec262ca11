/**
 * Mutation-testing rules for lambdas/http/handler-core.ts (issue 20), through `buildHandler` and
 * what a caller sees: the order of the chain (authentication before parsing: an unauthenticated
 * caller learns nothing about validation), the Authorization header found in any case, the
 * answer's headers (JSON, never cached, the request id, CORS on staff routes, problems included),
 * problem+json for every error, and one log line per request (rule 20: no secrets in it).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { routeById } from '../../../lib/routes.ts';
import { buildHandler, type Authenticate } from '../../../lambdas/http/handler-core.ts';
import { setLogWriter } from '../../../lambdas/http/logger.ts';
import { forbidden, unauthorized } from '../../../lambdas/http/problems.ts';
import { apiEvent, call, lambdaContext } from '../../support/events.ts';

const ORIGIN = 'https://ehr.example.test';
let lines: Record<string, unknown>[];
let seen: { caller: string; authorization: string | undefined }[];
const principal = { kind: 'staff', staffId: 'frontdesk', sub: 'sub-frontdesk', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } };
const allow: Authenticate = async (caller, authorization) => {
  seen.push({ caller, authorization });
  return principal as never;
};

beforeEach(() => {
  lines = [];
  seen = [];
  setLogWriter((l) => lines.push(JSON.parse(l)));
  process.env.STAFF_ORIGINS = ORIGIN;
});
afterEach(() => {
  setLogWriter();
  delete process.env.STAFF_ORIGINS;
});

const getRecord = (run: (input: any) => Promise<any>, authenticate: Authenticate = allow) => buildHandler(routeById('portal-record-get') as never, run as never, authenticate);
const event = (headers: Record<string, string> = {}) =>
  apiEvent({ method: 'GET', resource: '/patients/{patientId}/portal', path: '/patients/P-1/portal', pathParameters: { patientId: 'P-1' }, headers: { Authorization: 'Bearer abcdefghijk', ...headers } });

describe('the chain', () => {
  it('authenticates with the route caller and the Authorization header, then hands the parsed input, principal and caller facts to the handler', async () => {
    let input: any;
    const handler = getRecord(async (i) => {
      input = i;
      return { status: 200, body: { patientId: i.params.patientId } };
    });
    const e = event({ 'User-Agent': 'kiosk' });
    const answer = await call(handler, e);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ patientId: 'P-1' });
    expect(seen).toEqual([{ caller: 'staff', authorization: 'Bearer abcdefghijk' }]);
    expect(input.params).toEqual({ patientId: 'P-1' });
    expect(input.principal).toEqual(principal);
    expect(input.requestId).toBe(e.requestContext.requestId);
    expect(input.sourceIp).toBe('203.0.113.9');
    expect(input.callerContext).toMatchObject({ sourceIp: '203.0.113.9', serverPath: '/patients/P-1/portal', headers: { 'user-agent': 'kiosk' } });
    expect(typeof input.log.info).toBe('function');
  });

  it('finds the Authorization header in any case, skipping one without a value; none gives undefined', async () => {
    const handler = getRecord(async () => ({ status: 200, body: {} }));
    const e = event();
    e.headers = { authorization: undefined as never, AUTHORIZATION: 'Bearer upper-case-1' };
    await call(handler, e);
    const bare = event();
    bare.headers = null as never;
    await call(handler, bare);
    const others = event();
    others.headers = { Accept: 'application/json', 'X-Token': 'not-this-one', Authorization: 'Bearer after-others' };
    await call(handler, others);
    const noAuth = event();
    noAuth.headers = { Accept: 'application/json' };
    await call(handler, noAuth);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer upper-case-1', undefined, 'Bearer after-others', undefined]);
  });

  it('a refused caller gets the refusal, not a validation error, and the handler never runs', async () => {
    let ran = false;
    const handler = getRecord(
      async () => {
        ran = true;
        return { status: 200, body: {} };
      },
      async () => {
        throw unauthorized();
      },
    );
    const e = event();
    e.pathParameters = { patientId: '' } as never;
    const answer = await call(handler, e);
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer');
    expect(ran).toBe(false);
    const forbiddenAnswer = await call(getRecord(async () => ({ status: 200, body: {} }), async () => {
      throw forbidden();
    }), e);
    expect(forbiddenAnswer.status).toBe(403);
  });

  it('bad input after authentication is a 400 problem and the handler never runs', async () => {
    let ran = false;
    const handler = getRecord(async () => {
      ran = true;
      return { status: 200, body: {} };
    });
    const e = event();
    e.pathParameters = { patientId: 'P-1', extra: 'x' } as never;
    const answer = await call(handler, e);
    expect([answer.status, answer.json.type]).toEqual([400, '/problems/validation-error']);
    expect(ran).toBe(false);
  });
});

describe('answers', () => {
  it('JSON, never cached, the request id; the handler may add headers and override', async () => {
    const answer = await call(getRecord(async () => ({ status: 200, body: { ok: true }, headers: { etag: '"3"', 'cache-control': 'private' } })), event());
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'private', etag: '"3"' });
    const plain = await call(getRecord(async () => ({ status: 200, body: { ok: true } })), event());
    expect(plain.headers['cache-control']).toBe('no-store');
  });

  it('a text answer is sent as is, and an answer without a body has an empty body', async () => {
    const handler = getRecord(async () => ({ status: 200, text: '<p>hi</p>', headers: { 'content-type': 'text/html' } }));
    const res = await handler(event(), lambdaContext());
    expect([res.body, res.headers?.['content-type']]).toEqual(['<p>hi</p>', 'text/html']);
    const empty = await getRecord(async () => ({ status: 204 }))(event(), lambdaContext());
    expect([empty.statusCode, empty.body]).toEqual([204, '']);
  });

  it('the request id is the gateway one, else the Lambda one, on successes and problems alike', async () => {
    const e = event();
    expect((await call(getRecord(async () => ({ status: 200, body: {} })), e)).headers['x-request-id']).toBe(e.requestContext.requestId);
    const noGateway = event();
    noGateway.requestContext = undefined as never;
    const context = lambdaContext();
    const res = await getRecord(async () => {
      throw new Error('boom');
    })(noGateway, context);
    expect(res.statusCode).toBe(500);
    expect(res.headers?.['x-request-id']).toBe(context.awsRequestId);
    expect(res.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body).detail).toContain(context.awsRequestId);
  });

  it('without a gateway address the handler is told "unknown"', async () => {
    let ip: string | undefined;
    const e = event();
    e.requestContext = { requestId: 'r-1' } as never;
    await call(getRecord(async (i) => ((ip = i.sourceIp), { status: 200, body: {} })), e);
    expect(ip).toBe('unknown');
  });

  it('CORS: a staff route answers a listed origin on a success and on a problem; an unlisted one gets only Vary', async () => {
    const ok = await call(getRecord(async () => ({ status: 200, body: {} })), event({ Origin: ORIGIN }));
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    const refused = await call(getRecord(async () => ({ status: 200, body: {} }), async () => {
      throw unauthorized();
    }), event({ origin: ORIGIN }));
    expect(refused.headers).toMatchObject({ 'access-control-allow-origin': ORIGIN, vary: 'Origin', 'x-request-id': expect.any(String), 'content-type': 'application/problem+json' });
    const other = await call(getRecord(async () => ({ status: 200, body: {} })), event({ Origin: 'https://evil.example.test' }));
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.headers.vary).toBe('Origin');
    const health = buildHandler(routeById('health') as never, async () => ({ status: 200, body: { status: 'ok' } }) as never, async () => undefined as never);
    const pub = await call(health, apiEvent({ path: '/health', headers: { Origin: ORIGIN } }));
    expect(pub.headers.vary).toBeUndefined();
  });
});

describe('rule 20: one log line per request, without secrets', () => {
  it('names the request id, the route, the method, the status and a duration, and nothing from the headers', async () => {
    const e = event({ Cookie: 'sid=secret-cookie' });
    await call(getRecord(async () => ({ status: 200, body: {} })), e);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'request', requestId: e.requestContext.requestId, route: 'portal-record-get', method: 'GET', status: 200, durationMs: expect.any(Number) }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-cookie');
    expect(JSON.stringify(lines)).not.toContain('abcdefghijk');
  });

  it('the duration is the time from the start of the request to its answer, in whole milliseconds', async () => {
    const clock = vi.spyOn(performance, 'now');
    clock.mockReturnValueOnce(1000).mockReturnValueOnce(1250.6);
    await call(getRecord(async () => ({ status: 200, body: {} })), event());
    clock.mockRestore();
    expect(lines.at(-1)?.durationMs).toBe(251);
  });

  it('an unhandled error logs its name only, then the request line with status 500', async () => {
    await call(getRecord(async () => {
      throw new TypeError('secret detail');
    }), event());
    expect(lines.map((l) => [l.level, l.msg, l.errorName ?? l.status])).toEqual([
      ['error', 'unhandled error', 'TypeError'],
      ['info', 'request', 500],
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret detail');
  });
});
