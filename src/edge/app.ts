import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { BEGIN_PATH, ConfigError, type ConfigResult, SESSIONS_PATH, WAIT_PATH } from "../config/load";
import { platformStatusOf, toFailure } from "../core/errors";
import type { FailureCode } from "../failures/codes";
import { AppFailure } from "../failures/failure";
import { causeName, emitEvent, type RequestLog, type Route } from "../observability/log";
import { START_PATH } from "../security/start-link";
import { ASSET_CACHE, assetRoute } from "./assets";
import { type AppEnv, buildDeps, type Runtime } from "./context";
import { logRequest, stampHeaders } from "./finish";
import { MAX_URL_LENGTH } from "./query";
import { prefersJson, renderFailure } from "./respond";
import { registerApiRoutes } from "./routes/api";
import { begin } from "./routes/begin";
import { complete } from "./routes/complete";
import { exchangeRoute } from "./routes/exchange";
import { health } from "./routes/health";
import { relay } from "./routes/relay";
import { sessionStatus, wait } from "./routes/rivery";
import { start } from "./routes/start";

/** Routes a browser reaches mid-flow: their failures may go to the partner's ERROR_URL. */
const BROWSER_ROUTES: ReadonlySet<Route> = new Set(["relay", "exchange", "complete", "start", "begin", "wait"]);
const JSON_ROUTES: ReadonlySet<Route> = new Set(["api", "health", "session_status"]);

// Config problems discovered on use (a zone's missing key) are logged once
// per isolate, not on every request that trips over them.
const reportedProblems = new Set<string>();

/**
 * Builds the app for one parsed configuration. Paths come from config, so the
 * app is built once per isolate (see index.ts) rather than per request.
 *
 * The route table:
 *
 * | method           | path                      | handler                                   |
 * |------------------|---------------------------|-------------------------------------------|
 * | GET, HEAD        | CALLBACK_PATH, relay mode | relay-fast.ts, BEFORE this router (index.ts), when one zone relays and the query has no duplicate; anything else falls through to `relay` below |
 * | GET, HEAD, POST  | CALLBACK_PATH, relay mode | routes/relay.ts                           |
 * | GET, POST        | CALLBACK_PATH, exchange   | routes/exchange.ts                        |
 * | GET              | COMPLETE_PATH             | routes/complete.ts                        |
 * | GET              | /oauth2/start             | routes/start.ts (signed links)            |
 * | GET              | /oauth2/begin             | routes/begin.ts (the API's startUrl)      |
 * | GET              | /oauth2/wait              | routes/rivery.ts (a Rivery startUrl: the waiting page) |
 * | GET              | /oauth2/sessions/{id}     | routes/rivery.ts (the waiting page's poll, JSON)       |
 * | GET              | /healthz                  | routes/health.ts                          |
 * | *                | /api/v1/…                 | routes/api (bearer ADMIN_TOKEN)           |
 * | GET, HEAD        | /assets/*                 | assets.ts: the pages' script and style from ASSETS (public/assets/), cached a year; even with a broken config |
 */
export function buildApp(result: ConfigResult, runtime: Runtime): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = runtime.clock.now();
    const requestId = crypto.randomUUID();
    const log: RequestLog = { route: "not_found", method: c.req.method };
    c.set("requestId", requestId);
    c.set("log", log);
    if (result.ok) {
      c.set("config", result.config);
      c.set("deps", buildDeps(c, result.config, runtime));
    }
    await next();
    stampHeaders(c.res.headers, requestId);
    // The one exception to no-store: a found static asset (assets.ts).
    if (log.route === "asset" && c.res.status < 400) c.res.headers.set("Cache-Control", ASSET_CACHE);
    logRequest(log, c.res.status, requestId, started, runtime.clock.now());
  });

  // A separate middleware so that its failure still passes through the one
  // above (security headers, request id, log line).
  app.use(async (c, next) => {
    if (c.req.url.length > MAX_URL_LENGTH) throw new AppFailure("uri_too_long");
    await next();
  });

  // Before the config check: the error page's stylesheet comes from here too.
  app.get("/assets/*", assetRoute);

  if (!result.ok) {
    app.all("*", (c) => {
      c.get("log").route = c.req.path === "/healthz" ? "health" : "not_found";
      throw result.error;
    });
  } else {
    const { config } = result;
    const callback = config.mode === "relay" ? relay : exchangeRoute;
    const callbackMethods = config.mode === "relay" ? ["GET", "HEAD", "POST"] : ["GET", "POST"];
    // Routes whose GET spends something (a code, a record, a link, a startUrl)
    // refuse HEAD (a link preview, a prefetcher, a monitor) before their
    // handler runs. A middleware, not a route: Hono answers HEAD with the GET
    // route, so only the request's own method tells them apart.
    if (config.mode === "exchange") app.use(config.callbackPath, refuseHead(["GET", "POST"], "exchange"));
    for (const [path, route] of [
      [config.completePath, "complete"],
      [START_PATH, "start"],
      [BEGIN_PATH, "begin"],
      [WAIT_PATH, "wait"],
      [`${SESSIONS_PATH}:sessionId`, "session_status"],
    ] as const) {
      app.use(path, refuseHead(["GET"], route));
    }
    app.on(callbackMethods, config.callbackPath, callback);
    app.all(config.callbackPath, methodNotAllowed(callbackMethods, config.mode));
    app.get(config.completePath, complete);
    app.all(config.completePath, methodNotAllowed(["GET"], "complete"));
    app.get("/healthz", health);
    app.get(START_PATH, start);
    app.get(BEGIN_PATH, begin);
    app.get(WAIT_PATH, wait);
    app.get(`${SESSIONS_PATH}:sessionId`, sessionStatus);
    registerApiRoutes(app);
  }

  // Rendered here, not thrown: Hono runs notFound outside the middleware's
  // error handling, so a throw would skip the security headers and the log line.
  app.notFound((c) => failureResponse(new AppFailure("not_found"), c));
  app.onError((error, c) => failureResponse(error, c));
  return app;
}

function refuseHead(allowed: string[], route: Route) {
  const refuse = methodNotAllowed(allowed, route);
  return async (c: Context<AppEnv>, next: () => Promise<void>): Promise<void> => {
    if (c.req.method === "HEAD") refuse(c);
    await next();
  };
}

function methodNotAllowed(allowed: string[], route: Route) {
  return (c: Context<AppEnv>): Response => {
    c.get("log").route = route;
    throw new AppFailure("method_not_allowed", { headers: { Allow: allowed.join(", ") } });
  };
}

function failureResponse(thrown: Error, c: Context<AppEnv>): Response {
  const log = c.get("log");
  const error = toFailure(thrown);
  let code: FailureCode;
  let detail: string | undefined;
  let connectionId = log.connectionId;
  let headers: Readonly<Record<string, string>> = {};
  let fields: AppFailure["fields"];
  if (error instanceof ConfigError) {
    code = "config_invalid";
    const variables = error.problems.map((p) => p.variable);
    detail = `Check the setting${variables.length > 1 ? "s" : ""} ${variables.join(", ")}.`;
    for (const problem of error.problems) {
      const key = `${problem.variable}: ${problem.reason}`;
      if (!reportedProblems.has(key)) {
        reportedProblems.add(key);
        emitEvent("error", "config_invalid", { variable: problem.variable, reason: problem.reason });
      }
    }
  } else {
    code = error.code;
    detail = error.detail;
    connectionId = error.connectionId ?? connectionId;
    headers = error.headers;
    fields = error.fields;
    if (error.cause !== undefined) log.cause = causeName(error.cause);
    log.peakaStatus ??= platformStatusOf(error);
  }
  log.error = code;
  log.outcome ??= "failed";
  if (connectionId) log.connectionId = connectionId;
  const config = c.get("config") as AppEnv["Variables"]["config"] | undefined;
  const status = error instanceof ConfigError ? 500 : error.status;
  return renderFailure(
    c,
    { code, status, requestId: c.get("requestId"), connectionId, detail, headers, fields },
    {
      json: JSON_ROUTES.has(log.route) || prefersJson(c.req.raw),
      errorUrl: BROWSER_ROUTES.has(log.route) && code !== "config_invalid" ? config?.errorUrl : undefined,
    },
  );
}
