/** Order statistics for the bench's samples (nearest-rank, as the p90/p99 mean). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (xs: readonly number[]) => percentile(xs, 50);

export const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : b > 0 ? a / b : Infinity);

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
