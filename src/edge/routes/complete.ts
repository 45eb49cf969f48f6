import type { Context } from "hono";
import { completeSession } from "../../core/session";
import { parseCompletion } from "../../platforms/peaka/callbacks";
import type { AppEnv } from "../context";
import { rawQuery } from "../query";
import { redirect } from "../respond";
import { limitCallbacks } from "./callback-limit";

/**
 * Guide steps 10-11: Peaka redirects to the partner callback with
 * connectionId and status; the user goes back to where they started.
 */
export async function complete(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "complete";
  await limitCallbacks(c);
  return redirect(await completeSession(deps, parseCompletion(rawQuery(c.req.url))));
}
