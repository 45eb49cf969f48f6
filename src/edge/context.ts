import type { Context } from "hono";
import type { Clock } from "../clock";
import type { Env } from "../config/env";
import type { Config } from "../config/types";
import type { Deps } from "../core/deps";
import { causeName, emitEvent, type RequestLog } from "../observability/log";
import { LOOPBACK_HOSTS } from "../security/url-scheme";
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

/**
 * The worker's own origin as users and platforms reach it: the request's
 * origin, always https except on a loopback host, which keeps its scheme so
 * `wrangler dev` on http://localhost:8787 produces addresses that work there.
 */
function publicOriginOf(url: URL): string {
  const base = new URL(url.origin);
  if (!LOOPBACK_HOSTS.has(base.hostname)) base.protocol = "https:";
  return base.origin;
}

/** One `Deps` per request: one Store, the request's log line, and bookkeeping run after the response. */
export function buildDeps(c: Context<AppEnv>, config: Config, runtime: Runtime): Deps {
  const url = new URL(c.req.url);
  const requestId = c.get("requestId");
  return {
    config,
    store: new Store(c.env.CONNECTIONS, config.recordTtlSeconds, runtime.clock),
    log: c.get("log"),
    clock: runtime.clock,
    publicOrigin: publicOriginOf(url),
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
  };
}
