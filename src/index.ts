import type { Hono } from "hono/tiny";
import { buildApp } from "./app";
import type { Env } from "./config/env";
import { parseConfig } from "./config/load";
import type { Config } from "./config/types";
import type { AppEnv } from "./http/context";
import { relayFastPath } from "./routes/relay-fast";

export type { Env } from "./config/env";

interface Entry {
  readonly app: Hono<AppEnv>;
  /** Absent when the configuration is invalid: every request then goes to the app, which reports it. */
  readonly config?: Config;
}

// Workers hand the same env object to every request of an isolate, so config
// is parsed (and the router built) once per isolate. A WeakMap rather than a
// single slot keeps tests that pass different envs independent.
const entries = new WeakMap<Env, Entry>();

function entryFor(env: Env): Entry {
  let entry = entries.get(env);
  if (!entry) {
    // A config problem is logged by the app when a request first meets it
    // (once per isolate), together with that request's id.
    const result = parseConfig(env);
    entry = result.ok ? { app: buildApp(result), config: result.config } : { app: buildApp(result) };
    entries.set(env, entry);
  }
  return entry;
}

export default {
  fetch(request, env, ctx) {
    const { app, config } = entryFor(env);
    return (config && relayFastPath(request, config)) || app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
