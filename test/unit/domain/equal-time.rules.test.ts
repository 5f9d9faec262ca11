/** Mutation-testing rules for lambdas/domain/equal-time.ts (issue 20): rule 13's floor at its edges. */
import { describe, expect, it } from 'vitest';
import { realTime, withEqualTime, type EqualTime } from '../../../lambdas/domain/equal-time.ts';

function fake(workMs: number, grid = false) {
  let now = 5000;
  const slept: number[] = [];
  const spent: unknown[] = [];
  const timing: EqualTime = { floorMs: 300, grid, monotonicMs: () => now, sleep: async (ms) => void slept.push(ms) };
  const run = () =>
    withEqualTime(
      timing,
      async () => {
        now += workMs;
        return workMs;
      },
      (s) => spent.push(s),
    );
  return { run, slept, spent };
}

describe('rule 13: the equal-time floor at its edges', () => {
  it('instant work waits the whole floor, with the grid too (never less than one floor)', async () => {
    for (const grid of [false, true]) {
      const f = fake(0, grid);
      expect(await f.run()).toBe(0);
      expect(f.slept).toEqual([300]);
      expect(f.spent).toEqual([{ workMs: 0, floorMs: 300, overran: false }]);
    }
  });

  it('work of exactly the floor overran it and sleeps nothing (not even 0 ms)', async () => {
    for (const grid of [false, true]) {
      const f = fake(300, grid);
      await f.run();
      expect(f.slept).toEqual([]);
      expect(f.spent).toEqual([{ workMs: 300, floorMs: 300, overran: true }]);
    }
  });

  it('work just under the floor waits the rest and did not overrun; the grid lands on the next multiple', async () => {
    const f = fake(299.6);
    await f.run();
    expect(f.slept[0]).toBeCloseTo(0.4);
    expect(f.spent).toEqual([{ workMs: 300, floorMs: 300, overran: false }]);
    const g = fake(601, true);
    await g.run();
    expect(g.slept).toEqual([299]);
  });

  it('realTime: the floor and grid as given, a clock that moves forward, and a sleep that waits', async () => {
    const t = realTime(25, { grid: true });
    expect([t.floorMs, t.grid]).toEqual([25, true]);
    expect(realTime(25).grid).toBeUndefined();
    const a = t.monotonicMs();
    await t.sleep(25);
    expect(t.monotonicMs() - a).toBeGreaterThanOrEqual(20);
  });
});
