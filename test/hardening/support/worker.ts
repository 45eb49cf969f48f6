import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker, { type Env } from "../../../src/index";
import type { Overrides } from "../../helpers/worker";

export type Send = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * The worker's real fetch handler bound to one env object. Reusing the object
 * lets the worker keep its parsed config and router between requests, as it
 * does in production, which keeps ten-thousand-run properties fast.
 */
export type Handler = Required<Pick<ExportedHandler<Env>, "fetch">>;

export function workerWith(overrides: Overrides = {}, handler: Handler = worker): Send {
  const target: Env = { ...env, ...overrides };
  return async (url, init) => {
    const request = new Request(url, { redirect: "manual", ...init });
    const ctx = createExecutionContext();
    const response = await handler.fetch(request as Request<unknown, IncomingRequestCfProperties>, target, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

export type KvOp = "get" | "put" | "delete" | "list" | "getWithMetadata";
const KV_OPS: ReadonlySet<string> = new Set<KvOp>(["get", "put", "delete", "list", "getWithMetadata"]);

/**
 * Wraps the real KV binding. `before` sees every operation and its key first
 * and may throw (fault injection) or record; the call then goes to real KV.
 */
export function wrapKv(kv: KVNamespace, before: (op: KvOp, key: string | undefined) => void): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof prop !== "string" || !KV_OPS.has(prop) || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        try {
          before(prop as KvOp, typeof args[0] === "string" ? args[0] : undefined);
        } catch (error) {
          // Bindings reject rather than throw: fail the way real KV fails.
          return Promise.reject(error);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** What the Workers KV binding throws when its backend fails. */
export class InjectedKvFault extends Error {
  override readonly name = "Error";
  constructor(op: KvOp) {
    super(`KV ${op.toUpperCase()} failed: 503 Service Unavailable (injected)`);
  }
}
