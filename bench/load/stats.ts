/** Per-route counts and latencies of the load phase, and the table printed at the end. */

export type StatusClass = '2xx' | '3xx' | '4xx' | '429' | '5xx';

export interface RouteStats {
  route: string;
  latenciesMs: number[];
  byClass: Record<StatusClass, number>;
  /** Answers outside the route's expected set, by status (429 is expected everywhere). */
  unexpected: Map<number, number>;
}

export interface RouteSummary {
  route: string;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  byClass: Record<StatusClass, number>;
  unexpected: Record<string, number>;
}

export const statusClass = (status: number): StatusClass =>
  status === 429 ? '429' : status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';

/** Nearest-rank percentile. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export class LoadStats {
  private readonly routes = new Map<string, RouteStats>();

  /** Routes appear in the table in the order they are declared here. */
  declare(route: string): void {
    if (!this.routes.has(route)) {
      this.routes.set(route, { route, latenciesMs: [], byClass: { '2xx': 0, '3xx': 0, '4xx': 0, '429': 0, '5xx': 0 }, unexpected: new Map() });
    }
  }

  record(route: string, status: number, latencyMs: number, expected: readonly number[]): void {
    this.declare(route);
    const stats = this.routes.get(route)!;
    stats.latenciesMs.push(latencyMs);
    stats.byClass[statusClass(status)]++;
    if (status !== 429 && !expected.includes(status)) stats.unexpected.set(status, (stats.unexpected.get(status) ?? 0) + 1);
  }

  summary(seconds: number): RouteSummary[] {
    return [...this.routes.values()].map((s) => {
      const sorted = [...s.latenciesMs].sort((a, b) => a - b);
      return {
        route: s.route,
        requests: sorted.length,
        perSecond: sorted.length / seconds,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        byClass: { ...s.byClass },
        unexpected: Object.fromEntries(s.unexpected),
      };
    });
  }
}

export function formatTable(rows: readonly RouteSummary[]): string {
  const header = ['route', 'requests', 'req/s', 'p50 ms', 'p99 ms', '2xx', '3xx', '4xx', '429', '5xx'];
  const ms = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(1));
  const body = rows.map((r) => [
    r.route,
    String(r.requests),
    r.perSecond.toFixed(1),
    ms(r.p50Ms),
    ms(r.p99Ms),
    ...(['2xx', '3xx', '4xx', '429', '5xx'] as const).map((c) => String(r.byClass[c])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
