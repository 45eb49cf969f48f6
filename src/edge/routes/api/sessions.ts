import type { Context } from "hono";
import { readSession } from "../../../core/connect-session";
import { AppFailure } from "../../../failures/failure";
import type { AppEnv } from "../../context";
import type { SessionResponse } from "./spec";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * `GET /api/v1/sessions/{sessionId}`: a session as the partner may see it.
 * Only these fields: never the return URL (it may carry the partner's own
 * secrets), the bound browser's hash or a platform's private data.
 */
export async function sessionRoute(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  // A KV failure is thrown as it is: the app renders it as storage_unavailable.
  const session = await readSession(deps, c.req.param("sessionId") ?? "");
  if (!session) throw new AppFailure("session_not_found");
  const { sessionId, connectionId, platform, type, zone, reference, status, error } = session;
  deps.log.connectionId = connectionId;
  deps.log.outcome = status;
  return c.json({
    sessionId,
    connectionId,
    platform,
    type,
    zone,
    reference,
    status,
    error,
    createdAt: new Date(session.createdAt).toISOString(),
    completedAt: iso(session.completedAt),
  } satisfies SessionResponse);
}
