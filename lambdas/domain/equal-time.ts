/**
 * The equal-time floor of security rule 13, in one place: a public request whose answer must not
 * tell which path it took (a reset for a username that exists or not, an email address on file or
 * not) answers no sooner than a fixed floor after it began. A request whose work overran the
 * floor (a cold start, a slow backend) answers either at once or, with `grid`, on the next
 * multiple of the floor, so even the slow tail is on the same grid whatever the path. The grid
 * suits a floor the slow path rarely reaches (resets: 300 ms over tens of ms of work); where the
 * matched path often overruns (email-match under load) it would double the gap instead, so that
 * flow answers at once past the floor. Used by POST /credential-resets and POST
 * /registrations/email; an error (a 429, a 500) is answered at once, as it says nothing about
 * the account.
 */

export interface EqualTime {
  /** The floor, in ms: well above the slowest real path's usual time. */
  floorMs: number;
  /** A monotonic clock in ms (performance.now): real time, never the test clock of the domain. */
  monotonicMs: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Past the floor: wait for the next multiple of it (true) or answer at once (false, the default). */
  grid?: boolean;
}

export const realTime = (floorMs: number, options: { grid?: boolean } = {}): EqualTime => ({
  floorMs,
  ...options,
  monotonicMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

/** How long the work took and whether it overran the floor: names and numbers only, for a log line. */
export interface Spent {
  workMs: number;
  floorMs: number;
  overran: boolean;
}

/** Runs `work`, then waits until the floor has passed since it began (with `grid`: until the next multiple of it). */
export async function withEqualTime<T>(timing: EqualTime, work: () => Promise<T>, report?: (spent: Spent) => void): Promise<T> {
  const started = timing.monotonicMs();
  const result = await work();
  const spent = timing.monotonicMs() - started;
  const { floorMs } = timing;
  report?.({ workMs: Math.round(spent), floorMs, overran: spent >= floorMs });
  const until = timing.grid ? Math.max(1, Math.ceil(spent / floorMs)) * floorMs : floorMs;
  const left = until - spent;
  if (left > 0) await timing.sleep(left);
  return result;
}
