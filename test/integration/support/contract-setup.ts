/**
 * Setup file of the integration project (vitest.config.ts): every answer a test receives from the
 * local stack's API through `fetch` (support/stack.ts's api(), and any direct fetch) is checked
 * against GET /openapi.json by ./contract-check.ts. A violation throws from that fetch, naming
 * method, path, status and the schema error, and fails the test in afterEach even if the test
 * caught it. CONTRACT_STATS=<file> appends how many answers each file had validated.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, afterEach, expect, inject } from 'vitest';
import { checkAnswer, contractCounts, ContractViolation, takeViolations } from './contract-check.ts';

const apiUrl = inject('stack')?.apiUrl;
const realFetch = globalThis.fetch;

if (apiUrl) {
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await realFetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    if (new URL(url, apiUrl).origin === new URL(apiUrl).origin) {
      const text = await res.clone().text();
      await checkAnswer(apiUrl, { method, url, status: res.status, contentType: res.headers.get('content-type'), text }, realFetch);
    }
    return res;
  };
}

afterEach(() => {
  const violations = takeViolations();
  if (violations.length > 0) throw new ContractViolation(violations.join('\n'));
});

afterAll(async () => {
  const counts = await contractCounts();
  if (process.env.CONTRACT_STATS && counts) {
    appendFileSync(process.env.CONTRACT_STATS, `${JSON.stringify({ file: expect.getState().testPath, ...counts })}\n`);
  }
});
