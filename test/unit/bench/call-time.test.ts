/**
 * The bench's "in-req" raw (issue 16): the time a request spent waiting on its own calls. Calls
 * sent together overlap and count once; a gap between calls (our code running) does not count.
 */
import { describe, expect, it } from 'vitest';
import { callTime } from '../../../bench/lib/instrument.ts';

describe('callTime', () => {
  it('sums calls one after another, leaving out the gaps between them', () => {
    expect(callTime([{ start: 0, ms: 5 }, { start: 7, ms: 3 }])).toBe(8);
  });
  it('counts calls that overlap once, in any order, and a call inside another not at all', () => {
    expect(callTime([{ start: 4, ms: 6 }, { start: 0, ms: 5 }, { start: 6, ms: 1 }])).toBe(10);
  });
  it('no calls: no time', () => {
    expect(callTime([])).toBe(0);
  });
});
