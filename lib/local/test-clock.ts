/**
 * The local stack's test clock: real time plus an offset that `PUT /__test/clock` sets (see
 * server.ts). Test mode passes `now` to the handlers (lambdas/adapters/deps.ts `setClock`), so
 * integration tests check expiry without sleeping. `npm start` never makes one.
 */
import type { Clock } from '../../lambdas/domain/ports.ts';

export interface TestClock {
  readonly now: Clock;
  /** Milliseconds from real time; 0 puts it back. */
  setOffset(offsetMs: number): void;
}

export function testClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    setOffset: (ms) => {
      if (!Number.isFinite(ms)) throw new Error('offsetMs must be a number');
      offsetMs = ms;
    },
  };
}
