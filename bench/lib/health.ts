/**
 * A route with no backend (`GET /health`) through the local server, against a bare Node http
 * server answering the same body, in the same run: what the local server and middy chain cost
 * per request when there is nothing else to wait for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';

export interface ThroughputResult {
  localRps: number;
  bareRps: number;
  ratio: number;
  connections: number;
  seconds: number;
}

async function rps(url: string, connections: number, seconds: number): Promise<number> {
  const result = await autocannon({ url, connections, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

export async function healthThroughput(apiUrl: string, connections = 10, seconds = 5): Promise<ThroughputResult> {
  const body = JSON.stringify({ status: 'ok' });
  const bare: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/health`;
  try {
    // Warm both, then alternate so both see the same machine load.
    await rps(bareUrl, connections, 1);
    await rps(new URL('/health', apiUrl).toString(), connections, 1);
    const local: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < 2; i++) {
      plain.push(await rps(bareUrl, connections, seconds / 2));
      local.push(await rps(new URL('/health', apiUrl).toString(), connections, seconds / 2));
    }
    const localRps = local.reduce((a, b) => a + b, 0) / local.length;
    const bareRps = plain.reduce((a, b) => a + b, 0) / plain.length;
    return { localRps, bareRps, ratio: localRps / bareRps, connections, seconds };
  } finally {
    await new Promise((resolve) => bare.close(resolve));
  }
}
