/**
 * The SMS outbox of the local stack (issue 17): plays AWS End User Messaging SMS's
 * `SendTextMessage` (the pinpoint-sms-voice-v2 JSON 1.0 protocol, `X-Amz-Target:
 * PinpointSMSVoiceV2.SendTextMessage`), so the handlers' own adapter (lambdas/adapters/
 * sms-sender.ts, through SMS_ENDPOINT) runs unchanged, and keeps every text in memory:
 *   GET /            {messages: [{to, body, at}]} as JSON, or a small HTML page for a browser
 *   POST /           SendTextMessage (anything else: the service's UnknownOperationException)
 * Nothing ever leaves the machine. A restart empties it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOST } from './ports.ts';

export interface OutboxMessage {
  to: string;
  body: string;
  at: string;
}

export interface SmsOutbox {
  url: string;
  messages(): OutboxMessage[];
  close(): Promise<void>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });
  res.end(JSON.stringify({ __type: type, message }));
}

export async function startSmsOutbox(options: { port?: number; clock?: () => Date } = {}): Promise<SmsOutbox> {
  const sent: OutboxMessage[] = [];
  const clock = options.clock ?? (() => new Date());
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET') {
        const list = sent.map((m) => ({ ...m }));
        if ((req.headers.accept ?? '').includes('text/html')) {
          const rows = list.map((m) => `<tr><td>${escapeHtml(m.at)}</td><td>${escapeHtml(m.to)}</td><td>${escapeHtml(m.body)}</td></tr>`).join('');
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(`<!doctype html><html lang="en"><meta charset="utf-8"><title>SMS outbox</title><h1>SMS outbox</h1><table><thead><tr><th>At</th><th>To</th><th>Text</th></tr></thead><tbody>${rows}</tbody></table></html>`);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ messages: list }));
        return;
      }
      if (req.method !== 'POST') return awsError(res, 405, 'ValidationException', 'GET or POST');
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'PinpointSMSVoiceV2.SendTextMessage') return awsError(res, 400, 'UnknownOperationException', `the outbox plays SendTextMessage only, not ${target}`);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        return awsError(res, 400, 'SerializationException', 'not JSON');
      }
      const to = input.DestinationPhoneNumber;
      const body = input.MessageBody;
      // As the service does: an E.164 destination and an origination identity are required.
      if (typeof to !== 'string' || !/^\+[1-9]\d{1,14}$/.test(to)) return awsError(res, 400, 'ValidationException', 'DestinationPhoneNumber must be E.164');
      if (typeof input.OriginationIdentity !== 'string' || input.OriginationIdentity === '') return awsError(res, 400, 'ValidationException', 'OriginationIdentity is required');
      sent.push({ to, body: typeof body === 'string' ? body : '', at: clock().toISOString() });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ MessageId: randomUUID() }));
    })().catch(() => awsError(res, 500, 'InternalServerException', 'outbox failure'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    messages: () => sent.map((m) => ({ ...m })),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
