import type { Hono } from "hono/tiny";
import { AppFailure } from "../../../failures/failure";
import type { AppEnv } from "../../context";
import { authorizeApi } from "./auth";
import { createConnectionRoute, registerReturnRoute } from "./connections";
import { sessionRoute } from "./sessions";

export const API_PREFIX = "/api/v1";

function methodNotAllowed(allowed: string): () => never {
  return () => {
    throw new AppFailure("method_not_allowed", { headers: { Allow: allowed } });
  };
}

/** The server API: bearer-token guarded, JSON in and out (the `api` route renders failures as JSON). */
export function registerApiRoutes(app: Hono<AppEnv>): void {
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
