import type { Hono } from "hono/tiny";
import { buildApp } from "./app";
import type { Env } from "./config/env";
import { parseConfig } from "./config/load";
import type { AppEnv } from "./http/context";

export type { Env } from "./config/env";

// Workers hand the same env object to every request of an isolate, so config
// is parsed (and the router built) once per isolate. A WeakMap rather than a
// single slot keeps tests that pass different envs independent.
const apps = new WeakMap<Env, Hono<AppEnv>>();

function appFor(env: Env): Hono<AppEnv> {
  let app = apps.get(env);
  if (!app) {
    // A config problem is logged by the app when a request first meets it
    // (once per isolate), together with that request's id.
    app = buildApp(parseConfig(env));
    apps.set(env, app);
  }
  return app;
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
