import type { Context } from "hono";
import { rejectDuplicates } from "../../core/callback-params";
import { AppFailure } from "../../failures/failure";
import { exchange } from "../../platforms/peaka/callbacks";
import type { AppEnv } from "../context";
import { rawQuery, readFormBody } from "../query";
import { redirect } from "../respond";
import { limitCallbacks } from "./callback-limit";

/** Guide 2.b.3: the provider's callback, handed to Peaka by the worker (platforms/peaka/callbacks.ts). */
export async function exchangeRoute(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "exchange";
  deps.log.mode = "exchange";
  // Hono routes HEAD to GET handlers; a HEAD (a link prefetcher, a monitor)
  // must never spend the user's one-time code.
  if (c.req.method === "HEAD") throw new AppFailure("method_not_allowed", { headers: { Allow: "GET, POST" } });
  await limitCallbacks(c);

  // The string Peaka receives is exactly what the provider sent: the raw
  // query for a redirect, the raw body for response_mode=form_post.
  const queryParameters = c.req.method === "POST" ? await readFormBody(c.req.raw) : rawQuery(c.req.url);
  const params = new URLSearchParams(queryParameters);
  rejectDuplicates(params);
  return redirect(await exchange(deps, queryParameters, params));
}
