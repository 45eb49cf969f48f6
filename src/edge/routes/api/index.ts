import type { Context } from "hono";
import type { Hono } from "hono/tiny";
import { AppFailure } from "../../../failures/failure";
import { fromAssets } from "../../assets";
import type { AppEnv } from "../../context";
import { authorizeApi } from "./auth";
import { createConnectionRoute, registerReturnRoute } from "./connections";
import { sessionRoute } from "./sessions";

export const API_PREFIX = "/api/v1";
/** Public: a static asset (public/api/v1/openapi.json, `npm run openapi`), not part of the bundle. */
export const OPENAPI_PATH = `${API_PREFIX}/openapi.json`;

function methodNotAllowed(allowed: string): () => never {
  return () => {
    throw new AppFailure("method_not_allowed", { headers: { Allow: allowed } });
  };
}

/** The file is committed, so it is uploaded with every deploy (no-store like the rest of the API). */
function openApiDocument(c: Context<AppEnv>): Promise<Response> {
  c.get("log").route = "api";
  return fromAssets(c);
}

/**
 * The server API: bearer-token guarded, JSON in and out (the `api` route
 * renders failures as JSON). Every route here is described in spec.ts
 * (test/openapi.test.ts checks both ways).
 */
export function registerApiRoutes(app: Hono<AppEnv>): void {
  // Before the guard: the document is public.
  app.get(OPENAPI_PATH, openApiDocument);
  app.all(OPENAPI_PATH, (c) => {
    c.get("log").route = "api";
    return methodNotAllowed("GET, HEAD")();
  });
  app.use("/api/*", authorizeApi);
  app.post(`${API_PREFIX}/connections`, createConnectionRoute);
  app.all(`${API_PREFIX}/connections`, methodNotAllowed("POST"));
  app.put(`${API_PREFIX}/connections/:connectionId/return`, registerReturnRoute);
  app.all(`${API_PREFIX}/connections/:connectionId/return`, methodNotAllowed("PUT"));
  app.get(`${API_PREFIX}/sessions/:sessionId`, sessionRoute);
  app.all(`${API_PREFIX}/sessions/:sessionId`, methodNotAllowed("GET"));
  app.all("/api/*", () => {
    throw new AppFailure("not_found");
  });
}
