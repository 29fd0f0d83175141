import { SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { ATTR_DB_OPERATION_NAME, ATTR_DB_SYSTEM_NAME, ATTR_ERROR_TYPE } from "./attributes.js";

/** Methods that are the store's lifecycle, not calls worth a span. */
const UNTRACED = new Set(["close", "constructor"]);

/** How a store's calls are described: its name in span names, and the database behind it (db.system.name). */
export interface StoreDescription {
  /** `accounts`, `messages`...: spans are `<name>.<method>`. */
  name: string;
  /** `postgresql`, `cassandra`, `redis`; undefined for an in-process store. */
  dbSystem: string | undefined;
}

/**
 * The store with a client span around each call of its port's methods (`messages.create`,
 * `accounts.findSessionByTokenHash`...), generated over whatever methods it has, so a new port
 * method is traced without anyone remembering to. A span records the method and the database,
 * never arguments or results. Applied by the composition root only when tracing is on: with
 * tracing off the stores are used as they are.
 */
export function traceStore<T extends object>(store: T, tracer: Tracer, description: StoreDescription): T {
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  const attributes = { [ATTR_DB_OPERATION_NAME]: "", ...(description.dbSystem ? { [ATTR_DB_SYSTEM_NAME]: description.dbSystem } : {}) };
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof key !== "string" || typeof value !== "function" || UNTRACED.has(key)) return value;
      let wrapper = wrappers.get(key);
      if (!wrapper) {
        const method = value as (...args: unknown[]) => unknown;
        const spanName = `${description.name}.${key}`;
        const spanAttributes = { ...attributes, [ATTR_DB_OPERATION_NAME]: key };
        // The original runs on the store itself (not the proxy), so its private state works as ever.
        wrapper = (...args: unknown[]) =>
          tracer.startActiveSpan(spanName, { kind: SpanKind.CLIENT, attributes: spanAttributes }, (span) => {
            const failed = (error: unknown) => {
              span.setStatus({ code: SpanStatusCode.ERROR });
              span.setAttribute(ATTR_ERROR_TYPE, (error as Error)?.name ?? "Error");
              span.end();
              throw error;
            };
            try {
              const result = method.apply(target, args);
              if (typeof (result as PromiseLike<unknown> | null)?.then !== "function") {
                span.end();
                return result;
              }
              return (result as Promise<unknown>).then((settled) => {
                span.end();
                return settled;
              }, failed);
            } catch (error) {
              return failed(error);
            }
          });
        wrappers.set(key, wrapper);
      }
      return wrapper;
    },
  });
}
