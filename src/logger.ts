import { pino, type DestinationStream } from "pino";
import { logCorrelation } from "./log-context.js";

/**
 * Structured logging: one JSON line per entry on stderr, so logs are machine-readable. Lines are
 * `{"level":"info","time":"<ISO>",...fields,"message":"..."}`, plus `request_id` while an HTTP
 * request is served and `trace_id`/`span_id` inside a traced span (see log-context.ts).
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** How deep a field's value is searched for bigints and Errors (deeper values are written as they are). */
const MAX_DEPTH = 8;

/** A field value as JSON can carry it: bigints as decimal strings, Errors as their name, message and stack. */
function serialize(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object" || depth >= MAX_DEPTH) return value;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((item) => serialize(item, depth + 1));
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = serialize((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

/**
 * A logger (pino) writing entries at or above `level`, each a JSON line, to stderr (synchronously,
 * so nothing is lost when the process exits) or to `write` (one line, without its newline).
 */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination: DestinationStream = write
    ? { write: (chunk: string) => write(chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk) }
    : pino.destination({ dest: 2, sync: true });
  const log = pino(
    {
      level,
      messageKey: "message",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (fields) => serialize(fields) as Record<string, unknown> },
      mixin: logCorrelation,
    },
    destination,
  );
  const at = (lvl: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (fields === undefined) log[lvl](message);
    else log[lvl](fields, message);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
