/**
 * aws-ses-v2-local: accepts SES SendEmail, shows every email on its web page and answers
 * GET /store with them as JSON. It keeps mail in memory only, so a restart empties the mailbox.
 */
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
