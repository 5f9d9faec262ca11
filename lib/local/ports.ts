/**
 * Ports of the local stack: defaults, environment overrides, and the "is it free" check that runs
 * before anything starts, so a clash is reported by name instead of as a child's crash.
 */
import net from 'node:net';

/** Every service binds to loopback only: the local stack holds test data, not a LAN service. */
export const HOST = '127.0.0.1';

export interface Ports {
  api: number;
  mailbox: number;
  dynamodb: number;
  cognito: number;
}

type Service = keyof Ports;

const services: Record<Service, { name: string; envVar: string; fallback: number }> = {
  api: { name: 'API and pages', envVar: 'PORT', fallback: 3000 },
  mailbox: { name: 'mailbox (aws-ses-v2-local)', envVar: 'MAILBOX_PORT', fallback: 8005 },
  dynamodb: { name: 'DynamoDB Local', envVar: 'DYNAMODB_PORT', fallback: 8000 },
  cognito: { name: 'cognito-local', envVar: 'COGNITO_PORT', fallback: 9229 },
};

/** Explicit options win, then PORT / MAILBOX_PORT / DYNAMODB_PORT / COGNITO_PORT, then the defaults. */
export function resolvePorts(explicit: Partial<Ports> = {}, env: NodeJS.ProcessEnv = process.env): Ports {
  const pick = (service: Service): number => {
    const { envVar, fallback } = services[service];
    const value = explicit[service] ?? env[envVar] ?? fallback;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`${envVar}=${String(value)} is not a port number (1..65535)`);
    }
    return port;
  };
  return { api: pick('api'), mailbox: pick('mailbox'), dynamodb: pick('dynamodb'), cognito: pick('cognito') };
}

/** Resolves true when nothing listens on HOST:port (we can bind it ourselves). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    probe.listen({ port, host: HOST, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** Fails with one message naming every busy port and the variable that moves it. */
export async function assertPortsFree(ports: Ports): Promise<void> {
  const entries = Object.entries(ports) as [Service, number][];
  const seen = new Map<number, Service>();
  for (const [service, port] of entries) {
    const other = seen.get(port);
    if (other) throw new Error(`${services[service].envVar} and ${services[other].envVar} are both ${port}`);
    seen.set(port, service);
  }
  const free = await Promise.all(entries.map(([, port]) => isPortFree(port)));
  const busy = entries.filter((_, i) => !free[i]);
  if (busy.length > 0) {
    const lines = busy.map(
      ([service, port]) =>
        `  port ${port} (${services[service].name}) is already in use: stop what holds it or set ${services[service].envVar}=<another port>`,
    );
    throw new Error(`cannot start the local stack:\n${lines.join('\n')}`);
  }
}

/** Four currently free ports chosen by the OS (tests must not clash with a running `npm start`). */
export async function freePorts(): Promise<Ports> {
  // Hold all four at once so the OS cannot hand out the same port twice.
  const probes = await Promise.all(
    [0, 1, 2, 3].map(
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const probe = net.createServer();
          probe.once('error', reject);
          probe.listen({ port: 0, host: HOST }, () => resolve(probe));
        }),
    ),
  );
  const [api, mailbox, dynamodb, cognito] = probes.map((p) => (p.address() as net.AddressInfo).port) as [
    number,
    number,
    number,
    number,
  ];
  await Promise.all(probes.map((p) => new Promise((resolve) => p.close(resolve))));
  return { api, mailbox, dynamodb, cognito };
}
