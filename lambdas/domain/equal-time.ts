/**
 * The equal-time floor of security rule 13, in one place: a public request whose answer must not
 * tell which path it took (a reset for a username that exists or not, an email address on file or
 * not) answers no sooner than a fixed floor after it began, and a request whose work overran the
 * floor (a cold start, a slow backend) answers on the next multiple of it, so even the slow tail
 * is on the same grid whatever the path. Used by POST /credential-resets and POST
 * /registrations/email; an error (a 429, a 500) is answered at once, as it says nothing about
 * the account.
 */

export interface EqualTime {
  /** The floor, in ms: well above the slowest real path's usual time. */
  floorMs: number;
  /** A monotonic clock in ms (performance.now): real time, never the test clock of the domain. */
  monotonicMs: () => number;
  sleep: (ms: number) => Promise<void>;
}

export const realTime = (floorMs: number): EqualTime => ({
  floorMs,
  monotonicMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

/** How long the work took and whether it overran the floor: names and numbers only, for a log line. */
export interface Spent {
  workMs: number;
  floorMs: number;
  overran: boolean;
}

/** Runs `work`, then waits until the next multiple of the floor since it began (at least one floor). */
export async function withEqualTime<T>(timing: EqualTime, work: () => Promise<T>, report?: (spent: Spent) => void): Promise<T> {
  const started = timing.monotonicMs();
  const result = await work();
  const spent = timing.monotonicMs() - started;
  const { floorMs } = timing;
  report?.({ workMs: Math.round(spent), floorMs, overran: spent >= floorMs });
  const left = Math.max(1, Math.ceil(spent / floorMs)) * floorMs - spent;
  if (left > 0) await timing.sleep(left);
  return result;
}
