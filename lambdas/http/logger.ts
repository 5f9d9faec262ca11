/**
 * Structured JSON logs, one line per event, each carrying the request id.
 * Callers pass only ids, counts, names and outcomes. As a second line of defence, any field
 * whose name suggests a secret or PHI is dropped before writing (security rule 20).
 */
export type LogValue = string | number | boolean | null | undefined | readonly string[];
export type LogFields = Record<string, LogValue>;

const forbiddenField = /pass|pin|token|secret|authorization|cookie|email|phone|session|code/i;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function createLogger(base: LogFields, write: (line: string) => void = defaultWrite): Logger {
  const log = (level: string, msg: string, fields: LogFields = {}) => {
    const entry: Record<string, LogValue> = { level, time: new Date().toISOString(), msg, ...base };
    for (const [k, v] of Object.entries(fields)) {
      entry[k] = forbiddenField.test(k) ? '[dropped]' : v;
    }
    write(JSON.stringify(entry));
  };
  return {
    info: (msg, f) => log('info', msg, f),
    warn: (msg, f) => log('warn', msg, f),
    error: (msg, f) => log('error', msg, f),
  };
}

/**
 * LOG_LEVEL=silent turns printing off (unit tests); anything else writes every line to stdout.
 * Test runs may also hand every line, printed or not, to `globalThis.__portalAccessLogSink`
 * (the integration suite's rule 20 check); nothing sets it in Lambda.
 */
function defaultWrite(line: string): void {
  (globalThis as { __portalAccessLogSink?: (line: string) => void }).__portalAccessLogSink?.(line);
  if (process.env.LOG_LEVEL !== 'silent') process.stdout.write(`${line}\n`);
}
