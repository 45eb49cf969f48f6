import type { Context } from "hono";
import { beginSession } from "../../core/begin";
import { requirePublicOrigin } from "../../core/binding";
import { AppFailure } from "../../failures/failure";
import type { AppEnv } from "../context";
import { redirect } from "../respond";

/** `GET /oauth2/begin?t=…`: the API's startUrl. Binds this browser, then 303 to the consent screen. */
export async function begin(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "begin";
  // A HEAD (a link prefetcher, a chat app's preview) must not spend the URL.
  if (c.req.method === "HEAD") throw new AppFailure("method_not_allowed", { headers: { Allow: "GET" } });
  requirePublicOrigin(deps);
  return redirect(await beginSession(deps, new URL(c.req.url).searchParams.get("t")));
}
