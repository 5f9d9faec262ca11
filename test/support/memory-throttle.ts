/**
 * The sign-in throttle's store in memory, with the same counting as the DynamoDB adapter:
 * per-account failures (reserved before the attempt, settled after) and per-address failures.
 */
import type { ThrottleStore } from '../../lambdas/domain/sign-in-throttle.ts';

export function memoryThrottleState() {
  const accounts = new Map<string, { failures: number; lastFailureAt: number }>();
  const addresses = new Map<string, number>();
  const store: ThrottleStore = {
    async read(a, ip) {
      const account = accounts.get(a);
      return { ...(account ? { account } : {}), addressFailures: addresses.get(ip) ?? 0 };
    },
    async recordFailure(a, ip, now) {
      accounts.set(a, { failures: (accounts.get(a)?.failures ?? 0) + 1, lastFailureAt: now.getTime() });
      addresses.set(ip, (addresses.get(ip) ?? 0) + 1);
    },
    async clearAccount(a) {
      accounts.delete(a);
    },
    async reserve(a, seen, now) {
      const current = accounts.get(a);
      if (current?.failures !== seen?.failures || current?.lastFailureAt !== seen?.lastFailureAt) return false;
      accounts.set(a, { failures: (current?.failures ?? 0) + 1, lastFailureAt: now.getTime() });
      return true;
    },
    async settle(a, ip, outcome) {
      if (outcome === 'refused') addresses.set(ip, (addresses.get(ip) ?? 0) + 1);
      else {
        const current = accounts.get(a);
        if (current && current.failures > 1) accounts.set(a, { ...current, failures: current.failures - 1 });
        else accounts.delete(a);
      }
    },
  };
  return { store, accounts, addresses };
}

export const memoryThrottle = (): ThrottleStore => memoryThrottleState().store;
