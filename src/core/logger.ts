// The one logger. Diagnostics go to stderr only (stdout belongs to command output and, for the stdio MCP
// server, to the protocol). Lines are JSON or short human text; every field passes through a scrubber first,
// so a secret handed to the logger by mistake is replaced before it is written.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields (e.g. request_id) to every line. */
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Key names whose values are never logged, whatever they hold. */
const SECRET_KEY =
  /(token|secret|password|passphrase|cookie|authorization|credential|api[_-]?key|private[_-]?key|pin)/i;
/** Values that look like credentials: JWTs, bearer headers, long hex or base64 runs. */
const SECRET_VALUE = [
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b[0-9a-f]{40,}\b/gi,
  /\b[A-Za-z0-9+/]{48,}={0,2}/g,
];

/** IBKR account ids (paper DU..., advisor DF.../F..., live U...): never in logs, whoever logs them. */
const ACCOUNT_ID = /\b(?:DU|DF|U|F)[0-9]{5,9}\b/g;

/** Replaces secret-looking values and account ids in log fields; exported for tests and other sinks. */
export function scrubForLog(value: unknown, key = ""): unknown {
  if (SECRET_KEY.test(key)) return "[REDACTED]";
  if (typeof value === "string") {
    const scrubbed = SECRET_VALUE.reduce((text, pattern) => text.replace(pattern, "[REDACTED]"), value);
    return scrubbed.replace(ACCOUNT_ID, "[ACCOUNT]");
  }
  if (Array.isArray(value)) return value.map((item) => scrubForLog(item));
  if (value instanceof Error) return { name: value.name, message: scrubForLog(value.message) };
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubForLog(v, k)]));
  }
  return value;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: "json" | "text";
  write?: (line: string) => void;
  now?: () => number;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const threshold = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (ORDER[level] < threshold) return;
    const clean = scrubForLog({ ...bound, ...fields }) as LogFields;
    const text = scrubForLog(message) as string;
    if (options.format === "json") {
      write(`${JSON.stringify({ time: new Date(now()).toISOString(), level, message: text, ...clean })}\n`);
      return;
    }
    const extras = Object.entries(clean)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    write(`ibkr-agent ${level}: ${text}${extras ? ` (${extras})` : ""}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that drops everything (library default when the caller passes none). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
