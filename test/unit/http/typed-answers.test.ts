/**
 * Issue 14 item 4: a handler's answer is typed by its route's `responses` (status → zod schema).
 * The `@ts-expect-error` lines are the test: `npx tsc --noEmit` (which type-checks test/) fails
 * if any of those answers stops being a type error. At run time the well-typed ones answer.
 */
import { describe, expect, it } from 'vitest';
import { schemaOf } from '../../../lib/routes/types.ts';
import type { Authenticate } from '../../../lambdas/http/handler-core.ts';
import { responseSchema } from '../../../lambdas/openapi/response-schemas.ts';
import { ProxyInvited } from '../../../lambdas/schemas/proxy.ts';
import { buildHandlerFor as buildHandler } from '../../support/build-handler.ts';
import { apiEvent, call } from '../../support/events.ts';

const nobody: Authenticate = async () => undefined;
const record = { patientId: 'P-1', accessEnabled: true, cases: [], registration: 'NotRegistered' } as const;

describe('typed answers', () => {
  it('a declared status with a body its schema allows compiles and is answered as JSON', async () => {
    const health = buildHandler('health', async () => ({ status: 200, body: { status: 'ok' } }), nobody);
    const answer = await call(health, apiEvent({ path: '/health' }));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ status: 'ok' });
  });

  it('an undeclared status, a body the schema does not allow, or a missing body fail tsc', () => {
    // @ts-expect-error 201 is not a status GET /health declares
    buildHandler('health', async () => ({ status: 201, body: { status: 'ok' } }), nobody);
    // @ts-expect-error the schema is { status: 'ok' }
    buildHandler('health', async () => ({ status: 200, body: { status: 'fine' } }), nobody);
    // @ts-expect-error a declared JSON answer needs its body
    buildHandler('health', async () => ({ status: 200 }), nobody);
    // @ts-expect-error a JSON route answers `body`, not `text`
    buildHandler('health', async () => ({ status: 200, text: 'ok' }), nobody);
    // @ts-expect-error POST …/invitation answers 201 { pin, expiresAt, delivery, record }: a portal record alone is not it
    buildHandler('invitation-create', async () => ({ status: 201, body: record }), nobody);
    // @ts-expect-error DELETE /lobby-sessions/current answers 204 with no body
    buildHandler('lobby-session-end', async () => ({ status: 204, body: { ended: true } }), nobody);
    // @ts-expect-error a page answers `text` (HTML), not a JSON body
    buildHandler('console-page', async () => ({ status: 200, body: '<p>hi</p>' }), nobody);
    buildHandler('lobby-session-end', async () => ({ status: 204 }), nobody);
    buildHandler('console-page', async () => ({ status: 200, text: '<p>hi</p>' }), nobody);
    expect(true).toBe(true);
  });

  it('an answer named with schemaOf: a name its module does not export fails tsc; the OpenAPI side finds the schema itself', () => {
    // @ts-expect-error proxy.ts exports no schema called ProxyInvitation
    schemaOf('proxy', 'ProxyInvitation');
    // @ts-expect-error ProxyInvited is in the proxy module, not portal-record
    schemaOf('portal-record', 'ProxyInvited');
    expect(responseSchema(schemaOf('proxy', 'ProxyInvited'))).toBe(ProxyInvited);
    expect(() => responseSchema({ module: 'proxy', name: 'ProxyInvitation' })).toThrow("schemaOf('proxy', 'ProxyInvitation') names no schema");
  });
});
