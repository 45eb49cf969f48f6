import type { Context } from "hono";
import type { Clock } from "../clock";
import type { Env } from "../config/env";
import type { Config } from "../config/types";
import type { Deps } from "../core/deps";
import { causeName, emitEvent, type RequestLog } from "../observability/log";
import { Store } from "../storage/store";

export interface AppVariables {
  requestId: string;
  log: RequestLog;
  config: Config;
  /** The core's view of this request; set when the configuration parsed. */
  deps: Deps;
}

/** Hono's environment type for this app: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}

/** What the worker takes from outside besides env: injected by tests. */
export interface Runtime {
  readonly clock: Clock;
  readonly fetch: typeof fetch;
}

/** Cookies by name; the first wins when a name repeats (RFC 6265 §5.4 order: the most specific path first). */
function cookieReader(header: string | undefined): (name: string) => string | undefined {
  let parsed: Map<string, string> | undefined;
  return (name) => {
    if (parsed === undefined) {
      parsed = new Map();
      for (const pair of (header ?? "").split(";")) {
        const eq = pair.indexOf("=");
        if (eq < 0) continue;
        const key = pair.slice(0, eq).trim();
        if (!parsed.has(key)) parsed.set(key, pair.slice(eq + 1).trim());
      }
    }
    return parsed.get(name);
  };
}

/** One `Deps` per request: one Store, the request's log line, and bookkeeping run after the response. */
export function buildDeps(c: Context<AppEnv>, config: Config, runtime: Runtime): Deps {
  const url = new URL(c.req.url);
  const requestId = c.get("requestId");
  return {
    config,
    store: new Store(c.env.CONNECTIONS, config.recordTtlSeconds, runtime.clock, config.sessionTtlSeconds),
    log: c.get("log"),
    clock: runtime.clock,
    // Only a listed origin: the Host header alone never names the worker.
    publicOrigin: config.publicOrigins.has(url.origin) ? url.origin : undefined,
    cookie: cookieReader(c.req.header("cookie")),
    host: url.host,
    fetch: runtime.fetch,
    defer(task, work) {
      const guarded = work.catch((error: unknown) => {
        // Bookkeeping is KV writes and deletes: a failure is a storage failure, so it alerts like one.
        emitEvent("error", "background_task_failed", { task, requestId, cause: causeName(error) });
      });
      try {
        c.executionCtx.waitUntil(guarded);
      } catch {
        // No ExecutionContext (e.g. app.request in a unit test): the promise still runs.
      }
    },
    // Webhooks are not wired yet: events go nowhere.
    notify() {},
  };
}
