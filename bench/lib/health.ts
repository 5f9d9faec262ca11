/**
 * A route with no backend (`GET /health`) through the local server, against a bare Node http
 * server answering the same body, in the same run: what the local server and the handler chain
 * cost per request when there is nothing else to wait for.
 *
 * Like with like (issue 16 item 5): the bare server runs in the process the local server runs in
 * (the bench starts the stack in-process), on the same address family (the stack's own host);
 * autocannon drives both with the same options (connections, one request in flight per
 * connection, keep-alive, same request), each after a warm-up of its own. This machine is shared,
 * so load comes and goes: the two are measured in many short windows, alternating and swapping
 * which goes first in each pair, so a burst of load falls on both; the ratio is total requests
 * over total requests, and each pair's own ratio is kept to show the spread.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';

export interface ThroughputResult {
  localRps: number;
  bareRps: number;
  ratio: number;
  connections: number;
  /** Seconds of measurement per server (warm-up not counted). */
  seconds: number;
  /** Each alternating pair's local/bare ratio, in order. */
  pairs: number[];
}

interface Window {
  requests: number;
  seconds: number;
}

async function measure(url: string, connections: number, seconds: number): Promise<Window> {
  // pipelining 1 and keep-alive (autocannon's default) for both: one request in flight per connection.
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { requests: result.requests.total, seconds: result.duration };
}

const rate = (ws: Window[]) => ws.reduce((n, w) => n + w.requests, 0) / ws.reduce((s, w) => s + w.seconds, 0);

export async function healthThroughput(apiUrl: string, connections = 10, seconds = 6, windowSeconds = 1): Promise<ThroughputResult> {
  const body = JSON.stringify({ status: 'ok' });
  const bare: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
  });
  const localUrl = new URL('/health', apiUrl);
  await new Promise<void>((resolve) => bare.listen(0, localUrl.hostname, resolve));
  const bareUrl = `http://${localUrl.host.replace(/:\d+$/, '')}:${(bare.address() as AddressInfo).port}/health`;
  try {
    await measure(bareUrl, connections, 1);
    await measure(localUrl.toString(), connections, 1);
    const local: Window[] = [];
    const plain: Window[] = [];
    const pairs: number[] = [];
    for (let i = 0; i < Math.max(1, Math.round(seconds / windowSeconds)); i++) {
      const first = i % 2 === 0 ? 'bare' : 'local';
      const a = await measure(first === 'bare' ? bareUrl : localUrl.toString(), connections, windowSeconds);
      const b = await measure(first === 'bare' ? localUrl.toString() : bareUrl, connections, windowSeconds);
      const [l, p] = first === 'bare' ? [b, a] : [a, b];
      local.push(l);
      plain.push(p);
      pairs.push(rate([l]) / rate([p]));
    }
    const localRps = rate(local);
    const bareRps = rate(plain);
    return { localRps, bareRps, ratio: localRps / bareRps, connections, seconds, pairs };
  } finally {
    await new Promise((resolve) => bare.close(resolve));
  }
}
