import { describe, expect, it } from 'vitest';
import { withEqualTime, type EqualTime } from '../../../lambdas/domain/equal-time.ts';

/** A fake monotonic clock: the work "takes" `workMs`; sleeps are recorded, not waited. */
function fake(workMs: number, grid = false) {
  let now = 1000;
  const slept: number[] = [];
  const timing: EqualTime = { floorMs: 300, grid, monotonicMs: () => now, sleep: async (ms) => void slept.push(ms) };
  const work = async () => {
    now += workMs;
    return 'done';
  };
  return { timing, work, slept };
}

describe('rule 13: the equal-time floor', () => {
  it('waits the rest of the floor, and answers what the work answered', async () => {
    const f = fake(40);
    expect(await withEqualTime(f.timing, f.work)).toBe('done');
    expect(f.slept).toEqual([260]);
  });

  it('work that overran the floor answers at once, and says it overran', async () => {
    const f = fake(420);
    const spent: unknown[] = [];
    await withEqualTime(f.timing, f.work, (s) => spent.push(s));
    expect(f.slept).toEqual([]);
    expect(spent).toEqual([{ workMs: 420, floorMs: 300, overran: true }]);
  });

  it('with the grid, work that overran the floor answers on the next multiple of it', async () => {
    const f = fake(420, true);
    const spent: unknown[] = [];
    await withEqualTime(f.timing, f.work, (s) => spent.push(s));
    expect(f.slept).toEqual([180]);
    expect(spent).toEqual([{ workMs: 420, floorMs: 300, overran: true }]);
  });

  it('an error is answered at once (it says nothing about the account)', async () => {
    const f = fake(0);
    await expect(withEqualTime(f.timing, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(f.slept).toEqual([]);
  });
});
