/**
 * Security rule 35 on the injected-failure flows (failure-flows.ts): DynamoDB conflicts and
 * throttling, which DynamoDB Local never produces, injected inside our retry layer
 * (support/fail-nth.ts kinds `conflict` / `throttled`).
 *
 * For each flow:
 *   - a baseline run (its end state, to compare with);
 *   - transient: every DynamoDB call of the request is refused twice, as a conflict and then
 *     as throttling in a second test, and the request still succeeds, with the same calls and
 *     the same end state;
 *   - persistent: each DynamoDB write of the flow stays busy through every retry; the answer is
 *     the flow's success (where the write is best effort) or 503 problem+json with Retry-After,
 *     never a 500; no half state; the client's retry completes and reaches the baseline's end state.
 */
import { beforeEach, expect, it } from 'vitest';
import type { Answer } from '../../support/events.ts';
import { describeCall, record } from './fail-nth.ts';
import type { Flow } from './failure-flows.ts';
import { clearAddressWindows } from './address-windows.ts';

const writes = /^DynamoDB (TransactWriteItems|PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/;

/** 503, problem+json, Retry-After, and no internal name in the body. */
export function expectBusy(answer: Answer): void {
  expect(answer.status, JSON.stringify(answer.json)).toBe(503);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(answer.json.type).toMatch(/\/busy$/);
  expect(JSON.stringify(answer.json)).not.toMatch(/injected|Transaction|Throttl|Throughput|Dynamo|Cancel|BackendBusy|at .*\.ts/i);
}

export function defineBusyTests<S>(flow: Flow<S>): void {
  let baseline: unknown;
  // Every per-address failure window is cleared before each run, as fresh-address-window.ts does once
  // per file: these runs add their flows' own checks (dead links included) from 127.0.0.1 through
  // the local API, and a file's rule-6 budget of 100 would otherwise run out midway.
  beforeEach(clearAddressWindows);

  it(`rule 35: ${flow.name}: baseline for busy-table runs`, async () => {
    const s = await flow.setup();
    const { result, calls } = await record(() => flow.send(s));
    if (process.env.FAIL_NTH_PRINT) console.log(flow.name, result.status, JSON.stringify(calls.map(describeCall)));
    expect(result.status, JSON.stringify(result.json)).toBe(flow.ok);
    expect(calls.map(describeCall)).toEqual(flow.calls);
    await flow.finish?.(s, result);
    baseline = await flow.outcome(s, result);
  });

  for (const kind of ['conflict', 'throttled'] as const) {
    it(`rule 35: ${flow.name}: every DynamoDB call ${kind === 'conflict' ? 'conflicts' : 'is throttled'} twice → retried, the request succeeds`, async () => {
      expect(baseline, 'the baseline run').toBeDefined();
      const s = await flow.setup();
      const { result, calls } = await record(() => flow.send(s), 'every-dynamodb', kind, 2);
      expect(result.status, JSON.stringify(result.json)).toBe(flow.ok);
      expect(calls.map(describeCall)).toEqual(flow.calls);
      for (const c of calls.filter((c) => c.service === 'DynamoDB')) expect(c.attempts, `${c.n} ${describeCall(c)}`).toBe(3);
      await flow.noHalfState(s, result);
      await flow.finish?.(s, result);
      expect(await flow.outcome(s, result)).toEqual(baseline);
    });
  }

  // Every write; a flow that only reads gets its first DynamoDB call made busy instead.
  const busyCalls = flow.calls.some((c) => writes.test(c)) ? (c: string) => writes.test(c) : (c: string, i: number) => i === flow.calls.findIndex((x) => x.startsWith('DynamoDB'));
  flow.calls.forEach((name, i) => {
    if (!busyCalls(name, i)) return;
    const n = i + 1;
    it(`rule 35: ${flow.name}: call ${n} (${name}) stays busy → 503 with Retry-After, no half state, the retry completes`, async () => {
      expect(baseline, 'the baseline run').toBeDefined();
      const s = await flow.setup();
      const { result: first, calls } = await record(() => flow.send(s), n, 'conflict');
      const failed = calls.find((c) => c.failed);
      expect(failed && describeCall(failed), 'the injected call').toBe(name);
      expect(failed?.attempts, 'retried before giving up').toBeGreaterThan(1);
      if (first.status !== flow.ok) expectBusy(first);
      await flow.noHalfState(s, first);
      let success = first;
      if (first.status !== flow.ok) {
        success = await flow.send(s);
        expect(success.status, `the retry: ${JSON.stringify(success.json)}`).toBe(flow.ok);
        await flow.noHalfState(s, success);
      }
      await flow.finish?.(s, success);
      expect(await flow.outcome(s, success)).toEqual(baseline);
    });
  });
}
