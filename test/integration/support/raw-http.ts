/**
 * Requests fetch cannot make: from another loopback source address (127.0.0.0/8 is all local on
 * Linux, so the server sees a different `sourceIp`), or with a Host header of our choosing.
 */
import { request } from 'node:http';
import { checkAnswer } from './contract-check.ts';
import { stack } from './stack.ts';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export function rawApi(
  path: string,
  options: { method?: string; body?: unknown; token?: string; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<RawResponse> {
  const url = new URL(path, stack().apiUrl);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: options.method ?? 'GET', headers, localAddress: options.localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const isJson = /[/+]json\b/.test(String(res.headers['content-type'] ?? ''));
          const answer = { status: res.statusCode ?? 0, headers: res.headers, text, json: isJson && text ? JSON.parse(text) : undefined };
          // The same contract check as every fetch (support/contract-setup.ts).
          const checked = { method: options.method ?? 'GET', url: url.href, status: answer.status, contentType: String(res.headers['content-type'] ?? ''), text };
          checkAnswer(url.origin, checked).then(() => resolve(answer), reject);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
