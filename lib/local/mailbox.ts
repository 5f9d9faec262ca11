/**
 * aws-ses-v2-local: accepts SES SendEmail, shows every email on its web page and answers
 * GET /store with them as JSON. It keeps mail in memory only, so a restart empties the mailbox.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HOST } from './ports.ts';
import { startChild, waitUntilReady, type Child, type Launch } from './processes.ts';

export const mailboxUrl = (port: number): string => `http://${HOST}:${port}`;

export async function startMailbox(launch: Launch, port: number, dataDir: string): Promise<Child> {
  const bin = join(dirname(createRequire(import.meta.url).resolve('aws-ses-v2-local/package.json')), 'dist/cli.js');
  const { NODE_OPTIONS: _ignored, SMTP_TRANSPORT: _smtp, ...env } = process.env;
  // --local-stack (ignored by the CLI) marks the process as ours for orphan clean-up;
  // SMTP_TRANSPORT is dropped so no email ever leaves the machine.
  const args = [bin, '--host', HOST, '--port', String(port), `--local-stack=${dataDir}`];
  const child = startChild(launch, 'mailbox', process.execPath, args, { cwd: dataDir, env });
  await waitUntilReady(child, async () => (await fetch(`${mailboxUrl(port)}/health-check`)).ok);
  return child;
}

// ------------------------------------------------------------------------------ delivery events

/**
 * SES's delivery events, played locally (issue 15 item 3, api.md "Delivery"): a proxy in front
 * of aws-ses-v2-local, which has no configuration sets and publishes nothing. The handlers'
 * SES_ENDPOINT points here; every request passes through to the mailbox unchanged, and after a
 * SendEmail (v1 query or v2 JSON) that the mailbox took, carrying our message tags, to one of
 * SES's simulator addresses, the proxy hands the events AWS would publish to the same delivery
 * handler EventBridge invokes in AWS, shaped as EventBridge delivers them:
 *   success@ → Send, Delivery; bounce@ → Send, Bounce (Permanent, General);
 *   complaint@ → Send, Delivery, Complaint; suppressionlist@ → Send, Bounce (Permanent,
 *   OnAccountSuppressionList); ooto@ → Send, Delivery. A `+label` in the local part is allowed.
 * Other addresses get Send and Delivery only with `everyAddress` (api.md: "every other address is
 * Delivered"); off by default, so a local run's other records do not change version behind a test.
 * Events come `delayMs` after the answer (SES's arrive seconds later, never before the send
 * returns), on the handlers' clock, so times line up with the records' under a moved test clock.
 */

export interface MailEventsOptions {
  /** aws-ses-v2-local's URL. */
  upstream: string;
  /** The delivery handler (lambdas/handlers/delivery/events.ts), as EventBridge would invoke it. */
  deliver: (event: SesEventBridgeShape) => Promise<unknown>;
  clock: () => Date;
  delayMs?: number;
  everyAddress?: boolean;
  /** Told when a delivery call fails (error name only). */
  onError?: (name: string) => void;
}

export interface MailEvents {
  url: string;
  close(): Promise<void>;
  /** Resolves once every event scheduled so far has been handed over. */
  settled(): Promise<void>;
}

export interface SesEventBridgeShape {
  version: '0';
  id: string;
  'detail-type': string;
  source: 'aws.ses';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

type Outcome = 'Delivery' | 'Bounce' | 'Complaint' | 'Suppressed';

const simulator = /^(success|bounce|complaint|suppressionlist|ooto)(\+[^@]*)?@simulator\.amazonses\.com$/i;

/** The events SES publishes for a message to this address, after Send. */
export function simulatedOutcomes(address: string, everyAddress = false): Outcome[] | undefined {
  const kind = simulator.exec(address.trim())?.[1]?.toLowerCase();
  switch (kind) {
    case 'bounce':
      return ['Bounce'];
    case 'complaint':
      return ['Delivery', 'Complaint'];
    case 'suppressionlist':
      return ['Suppressed'];
    case 'success':
    case 'ooto':
      return ['Delivery'];
    default:
      return everyAddress ? ['Delivery'] : undefined;
  }
}

/** What a SendEmail request carries that events echo: the recipients and the message tags. */
export function readSendRequest(path: string, contentType: string, body: string): { to: string[]; tags: Record<string, string[]> } | undefined {
  if (path.startsWith('/v2/email/outbound-emails')) {
    try {
      const json = JSON.parse(body) as { Destination?: { ToAddresses?: string[] }; EmailTags?: { Name: string; Value: string }[] };
      return { to: json.Destination?.ToAddresses ?? [], tags: tagMap(json.EmailTags ?? []) };
    } catch {
      return undefined;
    }
  }
  if (!contentType.includes('application/x-www-form-urlencoded')) return undefined;
  const form = new URLSearchParams(body);
  if (form.get('Action') !== 'SendEmail') return undefined;
  const to: string[] = [];
  for (let i = 1; form.has(`Destination.ToAddresses.member.${i}`); i++) to.push(form.get(`Destination.ToAddresses.member.${i}`)!);
  const tags: { Name: string; Value: string }[] = [];
  for (let i = 1; form.has(`Tags.member.${i}.Name`); i++) tags.push({ Name: form.get(`Tags.member.${i}.Name`)!, Value: form.get(`Tags.member.${i}.Value`) ?? '' });
  return { to, tags: tagMap(tags) };
}

const tagMap = (tags: { Name: string; Value: string }[]): Record<string, string[]> =>
  Object.fromEntries(tags.map((t) => [t.Name, [t.Value]]));

const detailType: Record<string, string> = {
  Send: 'Email Sent',
  Delivery: 'Email Delivered',
  Bounce: 'Email Bounced',
  Complaint: 'Email Complaint Received',
};

/** The EventBridge events SES publishes for one message to one address. */
export function simulatedEvents(
  message: { messageId: string; to: string; tags: Record<string, string[]>; sentAt: Date },
  outcomes: Outcome[],
  at: (step: number) => Date,
): SesEventBridgeShape[] {
  const mail = {
    timestamp: message.sentAt.toISOString(),
    messageId: message.messageId,
    destination: [message.to],
    tags: { ...message.tags, 'ses:configuration-set': ['local'] },
  };
  const records: Record<string, unknown>[] = [{ eventType: 'Send', mail, send: {} }];
  outcomes.forEach((outcome, i) => {
    const timestamp = at(i + 1).toISOString();
    const recipient = [{ emailAddress: message.to }];
    if (outcome === 'Delivery') records.push({ eventType: 'Delivery', mail, delivery: { timestamp, recipients: [message.to], smtpResponse: '250 2.6.0 Message received' } });
    if (outcome === 'Complaint') records.push({ eventType: 'Complaint', mail, complaint: { timestamp, complainedRecipients: recipient, feedbackId: randomUUID() } });
    if (outcome === 'Bounce' || outcome === 'Suppressed') {
      const bounceSubType = outcome === 'Bounce' ? 'General' : 'OnAccountSuppressionList';
      records.push({ eventType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType, bouncedRecipients: recipient, timestamp, feedbackId: randomUUID() } });
    }
  });
  return records.map((detail) => ({
    version: '0',
    id: randomUUID(),
    'detail-type': detailType[detail.eventType as string]!,
    source: 'aws.ses',
    account: '000000000000',
    time: ((detail[String(detail.eventType).toLowerCase()] as { timestamp?: string } | undefined)?.timestamp ?? mail.timestamp),
    region: 'us-east-1',
    resources: [],
    detail,
  }));
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolveBody, rejectBody) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', rejectBody);
  });

export async function startMailEvents(options: MailEventsOptions): Promise<MailEvents> {
  const upstream = new URL(options.upstream);
  const pending = new Set<Promise<void>>();
  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const { host: _host, ...headers } = req.headers;
      const answer = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((done, fail) => {
        const out = httpRequest(
          { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...headers, host: upstream.host } },
          async (up) => done({ status: up.statusCode ?? 502, headers: up.headers, body: await readBody(up) }),
        );
        out.on('error', fail);
        out.end(body);
      });
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      if (answer.status < 300 && req.method === 'POST') schedule(req.url ?? '/', String(req.headers['content-type'] ?? ''), body.toString('utf8'), answer.body.toString('utf8'));
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    }
  });

  function schedule(path: string, contentType: string, body: string, answer: string): void {
    const send = readSendRequest(path, contentType, body);
    if (!send || Object.keys(send.tags).length === 0) return;
    const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(answer)?.[1] ?? /"MessageId"\s*:\s*"([^"]+)"/.exec(answer)?.[1] ?? randomUUID();
    const sentAt = options.clock();
    for (const to of send.to) {
      const outcomes = simulatedOutcomes(to, options.everyAddress);
      if (!outcomes) continue;
      const work = (async () => {
        await new Promise((r) => setTimeout(r, options.delayMs ?? 300));
        const base = options.clock().getTime();
        for (const event of simulatedEvents({ messageId, to, tags: send.tags, sentAt }, outcomes, (step) => new Date(Math.max(base, sentAt.getTime()) + step))) {
          try {
            await options.deliver(event);
          } catch (err) {
            options.onError?.(err instanceof Error ? err.name : 'unknown');
          }
        }
      })();
      pending.add(work);
      void work.finally(() => pending.delete(work));
    }
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(0, HOST, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
