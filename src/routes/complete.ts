import type { Context } from "hono";
import { afterResponse } from "../http/background";
import type { AppEnv } from "../http/context";
import { AppFailure } from "../http/failures";
import { parseCompletion, rawQuery } from "../http/query";
import { returnTo } from "../http/respond";
import { Store } from "../store/store";

/**
 * Guide steps 10-11: Peaka redirects to the partner callback with
 * connectionId and status; the user goes back to where they started. The
 * record is single-use, deleted once the redirect is on its way.
 */
export async function complete(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const log = c.get("log");
  log.route = "complete";

  const { connectionId, status } = parseCompletion(rawQuery(c.req.url));
  log.connectionId = connectionId;
  const store = new Store(c.env.CONNECTIONS, config.recordTtlSeconds);
  const record = await store.getConnection(connectionId);

  if (record) {
    log.zone = record.zone;
    log.mode = record.mode;
    log.outcome = "returned";
    const response = returnTo(config, record.returnUrl, { connectionId, status });
    afterResponse(c, "delete_connection", store.deleteConnection(connectionId));
    return response;
  }
  if (config.defaultReturnUrl) {
    log.outcome = "fallback";
    return returnTo(config, config.defaultReturnUrl, { connectionId, status });
  }
  throw new AppFailure("unknown_connection", { connectionId });
}
