/**
 * Structured JSON logs, one line per event, each carrying the request id.
 * Callers pass only ids, counts, names and outcomes. As a second line of defence, any field
 * whose name suggests a secret or PHI is dropped before writing (security rule 20).
 *
 * Where the lines go is passed in, never looked up: in Lambda nothing is passed and every line
 * is printed (`printLine`, stdout, which CloudWatch collects). The local stack's integration run
 * and the tests hand their own writer to `setLogWriter` (test/integration/support/log-hygiene.ts
 * captures every line for the rule 20 check and still prints through `printLine`). There is no
 * test branch here: the writer is a plain dependency with a production default.
 */
export type LogValue = string | number | boolean | null | undefined | readonly string[];
export type LogFields = Record<string, LogValue>;

const forbiddenField = /pass|pin|token|secret|authorization|cookie|email|phone|session|code/i;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export type LogWriter = (line: string) => void;

/** LOG_LEVEL=silent turns printing off (unit tests); anything else writes the line to stdout. */
export function printLine(line: string): void {
  if (process.env.LOG_LEVEL !== 'silent') process.stdout.write(`${line}\n`);
}

let writer: LogWriter = printLine;

/**
 * Where every logger without a writer of its own sends its lines from now on; no argument puts
 * back `printLine`. Called by the local stack and the tests, never by a handler.
 */
export function setLogWriter(write: LogWriter = printLine): void {
  writer = write;
}

/**
 * A logger whose lines go to `write`, or (none given) to the writer set by `setLogWriter`. A line
 * that would only reach `printLine` under LOG_LEVEL=silent is not formatted at all: the JSON of
 * every request's line was ~5% of a /health request's CPU in the local server (issue 16 item 5,
 * node --cpu-prof under autocannon). A writer of its own (the rule 20 capture) gets every line.
 */
export function createLogger(base: LogFields, write?: LogWriter): Logger {
  const log = (level: string, msg: string, fields: LogFields = {}) => {
    const to = write ?? writer;
    if (to === printLine && process.env.LOG_LEVEL === 'silent') return;
    const entry: Record<string, LogValue> = { level, time: new Date().toISOString(), msg, ...base };
    for (const [k, v] of Object.entries(fields)) {
      entry[k] = forbiddenField.test(k) ? '[dropped]' : v;
    }
    to(JSON.stringify(entry));
  };
  return {
    info: (msg, f) => log('info', msg, f),
    warn: (msg, f) => log('warn', msg, f),
    error: (msg, f) => log('error', msg, f),
  };
}
