/**
 * Security rule 20's check over a whole integration run: every secret the tests used (recorded
 * by api(), mailbox() and signInDirect() in support/stack.ts, and the seeded staff passwords) is
 * looked for in every log line the run produced (the handlers' JSON lines, through the writer
 * captureHandlerLogs passes to the logger, and whatever the local stack printed). The global setup owns the capture directory
 * and runs the check at teardown.
 *
 * Files in the capture directory, one per process so no two writers share one:
 *   secrets-<pid>.jsonl  {field, value, source} per line
 *   logs-<pid>.log       the log lines captured in that process
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatWithOptions } from 'node:util';
import { printLine, setLogWriter } from '../../../lambdas/http/logger.ts';

/** Fields whose values are secrets or contact details (api.md "Secrets and lifetimes", rule 20). */
export const secretFields = [
  'pin',
  'password',
  'newPassword',
  'currentPassword',
  'temporaryPassword',
  'lobbyPassword',
  'token',
  'accessToken',
  'idToken',
  'refreshToken',
  'lobbyToken',
  'session',
  'secretCode',
  'totpSecret',
  'otpauthUri',
  'email',
  'phone',
  // Self-registration (issue 19): what the person typed is PHI, never logged.
  'firstName',
  'lastName',
  'dateOfBirth',
] as const;

/** Shorter values are skipped: a 4-character value turns up in any long log by chance. PINs (6) count. */
export const MIN_SECRET_LENGTH = 6;

export interface Secret {
  field: string;
  value: string;
  /** Where the test met it, e.g. "POST /sessions request" (never the value). */
  source: string;
}

const fieldNames = new Set<string>(secretFields);

/** The secrets in a JSON value: every string (or number) under a secret field's name, at any depth. */
export function secretsIn(value: unknown, source: string, out: Secret[] = []): Secret[] {
  if (Array.isArray(value)) {
    for (const v of value) secretsIn(v, source, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (fieldNames.has(key) && (typeof v === 'string' || typeof v === 'number')) out.push({ field: key, value: String(v), source });
      else secretsIn(v, source, out);
    }
  }
  return out;
}

/** The secrets an email carries: link tokens, a reset PIN, and the addresses it went to. */
export function secretsInEmail(email: { destination?: { to?: string[] }; body?: { text?: string; html?: string } }, source: string): Secret[] {
  const out: Secret[] = (email.destination?.to ?? []).map((to) => ({ field: 'email', value: to, source }));
  const text = `${email.body?.text ?? ''}\n${email.body?.html ?? ''}`;
  for (const m of text.matchAll(/[#?&](?:amp;)?token=([^&"'<>\s]+)/g)) {
    out.push({ field: 'token', value: m[1]!, source });
    out.push({ field: 'token', value: decodeURIComponent(m[1]!), source });
  }
  for (const m of text.matchAll(/\bPIN:\s*(?:<[^>]*>\s*)?([A-Z0-9]{6})\b/g)) out.push({ field: 'pin', value: m[1]!, source });
  return out;
}

/** Link tokens in a URL's query (`?token=…`). */
export function secretsInUrl(url: string, source: string): Secret[] {
  const q = url.indexOf('?');
  if (q === -1) return [];
  const token = new URLSearchParams(url.slice(q + 1)).get('token');
  return token ? [{ field: 'token', value: token, source }] : [];
}

export interface Leak {
  field: string;
  source: string;
  /** Which capture, and the 1-based line. */
  where: string;
  /** The log line with the secret replaced by [SECRET], so reporting a leak does not repeat it. */
  line: string;
}

/**
 * Where any secret appears in the logs: as sent, JSON-escaped and percent-encoded; emails
 * without regard to case. Values shorter than MIN_SECRET_LENGTH are ignored.
 */
export function findLeaks(logs: { name: string; text: string }[], secrets: readonly Secret[]): Leak[] {
  const leaks: Leak[] = [];
  const seen = new Set<string>();
  for (const secret of secrets) {
    if (secret.value.length < MIN_SECRET_LENGTH || seen.has(secret.value)) continue;
    seen.add(secret.value);
    const variants = [...new Set([secret.value, JSON.stringify(secret.value).slice(1, -1), encodeURIComponent(secret.value)])];
    const caseless = secret.value.includes('@');
    for (const log of logs) {
      const haystack = caseless ? log.text.toLowerCase() : log.text;
      const found = variants.find((v) => haystack.includes(caseless ? v.toLowerCase() : v));
      if (found === undefined) continue;
      const lines = log.text.split('\n');
      const index = lines.findIndex((l) => (caseless ? l.toLowerCase() : l).includes(caseless ? found.toLowerCase() : found));
      leaks.push({ field: secret.field, source: secret.source, where: `${log.name}:${index + 1}`, line: redact(lines[index] ?? '', variants) });
    }
  }
  return leaks;
}

function redact(line: string, variants: string[]): string {
  let out = line;
  for (const v of variants) out = out.split(v).join('[SECRET]');
  // Case-insensitive leftovers (emails).
  for (const v of variants) out = out.replace(new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[SECRET]');
  return out.length > 400 ? `${out.slice(0, 400)}…` : out;
}

/** The report of a failed check: field, where it was met, where it leaked, the line redacted. */
export const describeLeaks = (leaks: readonly Leak[]): string =>
  `rule 20: ${leaks.length} secret value(s) used in this run appear in its logs:\n` +
  leaks.map((l) => `  - a ${l.field} (from ${l.source}) at ${l.where}: ${l.line}`).join('\n');

// ---------------------------------------------------------------------------- the files

const pidFile = (dir: string, kind: 'secrets' | 'logs') => join(dir, `${kind}-${process.pid}.${kind === 'secrets' ? 'jsonl' : 'log'}`);

/** Appends secrets to this process's file (synchronously: a worker may be ended any time). */
export function recordSecrets(dir: string, secrets: readonly Secret[]): void {
  const lines = secrets.filter((s) => s.value.length > 0).map((s) => JSON.stringify(s));
  if (lines.length > 0) appendFileSync(pidFile(dir, 'secrets'), `${lines.join('\n')}\n`);
}

export function appendLog(dir: string, line: string): void {
  appendFileSync(pidFile(dir, 'logs'), line.endsWith('\n') ? line : `${line}\n`);
}

export function readSecrets(dir: string): Secret[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('secrets-'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Secret));
}

export function readLogs(dir: string): { name: string; text: string }[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('logs-'))
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * Capture may serve several capture directories at once (a stack's run and a test of this module
 * in one process): every line goes to each. Kept in this module, beside the logger writer it
 * passes in: the logger reads no global.
 */
const state: { handlerDirs: Set<string>; consoleDirs: Set<string>; console?: Map<ConsoleMethod, (...args: unknown[]) => void> } = {
  handlerDirs: new Set(),
  consoleDirs: new Set(),
};
const capture = () => state;

/**
 * Sends every line of the handlers' logger (lambdas/http/logger.ts) in this process to `dir`,
 * whatever LOG_LEVEL says (printing still follows LOG_LEVEL): it passes the logger a writer
 * (`setLogWriter`) that appends to every capture directory and then prints. Returns the undo.
 */
export function captureHandlerLogs(dir: string): () => void {
  const c = capture();
  c.handlerDirs.add(dir);
  setLogWriter((line) => {
    for (const d of c.handlerDirs) appendLog(d, line);
    printLine(line);
  });
  return () => {
    c.handlerDirs.delete(dir);
    if (c.handlerDirs.size === 0) setLogWriter();
  };
}

const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
type ConsoleMethod = (typeof consoleMethods)[number];

/**
 * Copies whatever this process prints through `console` (the local server's error lines, the
 * stack's warnings, the SDK's) to `dir`, still printing it as before. Vitest's own report goes
 * through a console of its own, so test names and assertion diffs are not captured. Returns the
 * undo.
 */
export function captureConsole(dir: string): () => void {
  const c = capture();
  c.consoleDirs.add(dir);
  if (!c.console) {
    const originals = new Map(consoleMethods.map((m) => [m, console[m]] as const));
    c.console = originals;
    for (const [name, original] of originals) {
      console[name] = (...args: unknown[]) => {
        const line = `[console.${name}] ${formatWithOptions({ colors: false }, ...args)}`;
        for (const d of c.consoleDirs) appendLog(d, line);
        original.apply(console, args);
      };
    }
  }
  return () => {
    c.consoleDirs.delete(dir);
    if (c.consoleDirs.size === 0 && c.console) {
      for (const [name, original] of c.console) console[name] = original;
      delete c.console;
    }
  };
}
