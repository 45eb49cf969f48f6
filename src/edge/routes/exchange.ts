import type { Context } from "hono";
import { rejectDuplicates } from "../../core/callback-params";
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
  await limitCallbacks(c);

  // The string Peaka receives is exactly what the provider sent: the raw
  // query for a redirect, the raw body for response_mode=form_post.
  const queryParameters = c.req.method === "POST" ? await readFormBody(c.req.raw) : rawQuery(c.req.url);
  const params = new URLSearchParams(queryParameters);
  rejectDuplicates(params);
  return redirect(await exchange(deps, queryParameters, params));
}
