/**
 * Rule 35 (and 24): every route whose function can write (records, audit, throttle counters,
 * lobby, resets, email-match links, new-password challenges) has an injected-failure flow, so
 * conflicts and throttling are injected into it (test/integration/support/busy-flows.ts). Read
 * from the route table: a new writing route fails here until a flow names it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routes } from '../../lib/routes.ts';

const writingGrant = /^(records:write|audit:append|throttle:readwrite|challenge:write|lobby:(issue|redeem)|reset:issue|emailMatch:issue)$/;
const dir = 'test/integration';
const sources = readdirSync(dir)
  .filter((f) => /^failures-.*\.test\.ts$/.test(f))
  .map((f) => readFileSync(join(dir, f), 'utf8'))
  .join('\n');
const covered = new Set([...sources.matchAll(/\broute: '([a-z0-9-]+)'/g)].map((m) => m[1]));
const writing = routes.filter((r) => (r.grants as readonly string[]).some((g) => writingGrant.test(g)));

describe('rule 35: conflicts and throttling injected into every writing route', () => {
  it.each(writing.map((r) => [r.id, r.grants.join(', ')]))('%s (%s) has an injected-failure flow', (id) => {
    expect(covered.has(id), `add a flow with route: '${id}' to a test/integration/failures-*.test.ts file`).toBe(true);
  });

  it('every flow names a route of the table', () => {
    const ids = new Set(routes.map((r) => r.id));
    for (const id of covered) expect(ids.has(id as never), id).toBe(true);
  });
});
