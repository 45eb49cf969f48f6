import { systemClock } from "./clock";
import type { Env } from "./config/env";
import { parseConfig } from "./config/load";
import type { Config } from "./config/types";
import { buildApp } from "./edge/app";
import type { Runtime } from "./edge/context";
import { relayFastPath } from "./edge/routes/relay-fast";
import { deliverWebhooks } from "./webhooks/consumer";

export type { Env } from "./config/env";

interface Entry {
  readonly app: ReturnType<typeof buildApp>;
  /** Absent when the configuration is invalid: every request then goes to the app, which reports it. */
  readonly config?: Config;
}

/**
 * The worker's fetch and queue handlers over an injected clock and fetch: the default
 * export uses the real ones; tests build their own to move time or fire a
 * timeout without sleeping.
 */
export function createWorker(runtime: Partial<Runtime> = {}): Required<Pick<ExportedHandler<Env>, "fetch" | "queue">> {
  const resolved: Runtime = {
    clock: runtime.clock ?? systemClock,
    fetch: runtime.fetch ?? ((input, init) => fetch(input, init)),
  };
  // Workers hand the same env object to every request of an isolate, so config
  // is parsed (and the router built) once per isolate. A WeakMap rather than a
  // single slot keeps tests that pass different envs independent.
  const entries = new WeakMap<Env, Entry>();
  const entryFor = (env: Env): Entry => {
    let entry = entries.get(env);
    if (!entry) {
      // A config problem is logged by the app when a request first meets it
      // (once per isolate), together with that request's id.
      const result = parseConfig(env);
      entry = result.ok
        ? { app: buildApp(result, resolved), config: result.config }
        : { app: buildApp(result, resolved) };
      entries.set(env, entry);
    }
    return entry;
  };
  return {
    fetch(request, env, ctx) {
      const { app, config } = entryFor(env);
      // The relay's common case is answered before the router (edge/app.ts lists it in the route table).
      const fast = config && relayFastPath(request, config, resolved.clock, env.CALLBACK_RATE_LIMITER);
      if (fast === undefined) return app.fetch(request, env, ctx);
      if (fast instanceof Response) return fast;
      return fast.then((response) => response ?? app.fetch(request, env, ctx));
    },
    // The WEBHOOKS queue's consumer (webhooks/consumer.ts).
    queue(batch, env) {
      return deliverWebhooks(batch, entryFor(env).config?.webhooks, { ...resolved, deadLetters: env.WEBHOOKS_DLQ });
    },
  };
}

export default createWorker() satisfies ExportedHandler<Env>;
