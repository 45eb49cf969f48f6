import type { Hono } from "hono/tiny";
import { buildApp } from "./app";
import type { Env } from "./config/env";
import { parseConfig } from "./config/load";
import type { AppEnv } from "./http/context";
import { emitEvent } from "./http/log";

export type { Env } from "./config/env";

// Workers hand the same env object to every request of an isolate, so config
// is parsed (and the router built) once per isolate. A WeakMap rather than a
// single slot keeps tests that pass different envs independent.
const apps = new WeakMap<Env, Hono<AppEnv>>();

function appFor(env: Env): Hono<AppEnv> {
  let app = apps.get(env);
  if (!app) {
    const result = parseConfig(env);
    if (!result.ok) {
      for (const problem of result.error.problems) {
        emitEvent("error", "config_invalid", { variable: problem.variable, reason: problem.reason });
      }
    }
    app = buildApp(result);
    apps.set(env, app);
  }
  return app;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
