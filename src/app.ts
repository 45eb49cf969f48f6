import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { ConfigError, type ConfigResult } from "./config/load";
import type { AppEnv } from "./http/context";
import { AppFailure, type FailureCode } from "./http/failures";
import { logRequest, stampHeaders } from "./http/finish";
import { causeName, emitEvent, type RequestLog, type Route } from "./http/log";
import { MAX_URL_LENGTH } from "./http/query";
import { prefersJson, renderFailure } from "./http/respond";
import { peakaStatusOf } from "./peaka/errors";
import { registerApiRoutes } from "./routes/api";
import { complete } from "./routes/complete";
import { exchange } from "./routes/exchange";
import { health } from "./routes/health";
import { relay } from "./routes/relay";
import { start } from "./routes/start";
import { START_PATH } from "./security/start-link";

/** Routes a browser reaches mid-flow: their failures may go to the partner's ERROR_URL. */
const BROWSER_ROUTES: ReadonlySet<Route> = new Set(["relay", "exchange", "complete", "start"]);
const JSON_ROUTES: ReadonlySet<Route> = new Set(["api", "health"]);

// Config problems discovered on use (a zone's missing key) are logged once
// per isolate, not on every request that trips over them.
const reportedProblems = new Set<string>();

/**
 * Builds the app for one parsed configuration. Paths come from config, so the
 * app is built once per isolate (see index.ts) rather than per request.
 */
export function buildApp(result: ConfigResult): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = Date.now();
    const requestId = crypto.randomUUID();
    const log: RequestLog = { route: "not_found", method: c.req.method };
    c.set("requestId", requestId);
    c.set("log", log);
    if (result.ok) c.set("config", result.config);
    await next();
    stampHeaders(c.res.headers, requestId);
    logRequest(log, c.res.status, requestId, started);
  });

  // A separate middleware so that its failure still passes through the one
  // above (security headers, request id, log line).
  app.use(async (c, next) => {
    if (c.req.url.length > MAX_URL_LENGTH) throw new AppFailure("uri_too_long");
    await next();
  });

  if (!result.ok) {
    app.all("*", (c) => {
      c.get("log").route = c.req.path === "/healthz" ? "health" : "not_found";
      throw result.error;
    });
  } else {
    const { config } = result;
    const callback = config.mode === "relay" ? relay : exchange;
    const callbackMethods = config.mode === "relay" ? ["GET", "HEAD", "POST"] : ["GET", "POST"];
    app.on(callbackMethods, config.callbackPath, callback);
    app.all(config.callbackPath, methodNotAllowed(callbackMethods, config.mode));
    app.get(config.completePath, complete);
    app.all(config.completePath, methodNotAllowed(["GET", "HEAD"], "complete"));
    app.get("/healthz", health);
    app.get(START_PATH, start);
    registerApiRoutes(app);
  }

  // Rendered here, not thrown: Hono runs notFound outside the middleware's
  // error handling, so a throw would skip the security headers and the log line.
  app.notFound((c) => failureResponse(new AppFailure("not_found"), c));
  app.onError((error, c) => failureResponse(error, c));
  return app;
}

function methodNotAllowed(allowed: string[], route: Route) {
  return (c: Context<AppEnv>): Response => {
    c.get("log").route = route;
    throw new AppFailure("method_not_allowed", { headers: { Allow: allowed.join(", ") } });
  };
}

function failureResponse(error: Error, c: Context<AppEnv>): Response {
  const log = c.get("log");
  let code: FailureCode;
  let detail: string | undefined;
  let connectionId = log.connectionId;
  let headers: Readonly<Record<string, string>> = {};
  let fields: AppFailure["fields"];
  if (error instanceof AppFailure) {
    code = error.code;
    detail = error.detail;
    connectionId = error.connectionId ?? connectionId;
    headers = error.headers;
    fields = error.fields;
    if (error.cause !== undefined) log.cause = causeName(error.cause);
    log.peakaStatus ??= peakaStatusOf(error);
  } else if (error instanceof ConfigError) {
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
    code = "internal_error";
    log.cause = causeName(error);
  }
  log.error = code;
  log.outcome ??= "failed";
  if (connectionId) log.connectionId = connectionId;
  const config = c.get("config") as AppEnv["Variables"]["config"] | undefined;
  const status = error instanceof AppFailure ? error.status : 500;
  return renderFailure(
    c,
    { code, status, requestId: c.get("requestId"), connectionId, detail, headers, fields },
    {
      json: JSON_ROUTES.has(log.route) || prefersJson(c.req.raw),
      errorUrl: BROWSER_ROUTES.has(log.route) && code !== "config_invalid" ? config?.errorUrl : undefined,
    },
  );
}
