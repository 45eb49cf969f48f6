import type { Context } from "hono";
import { beginSession } from "../../core/begin";
import { requirePublicOrigin } from "../../core/binding";
import type { AppEnv } from "../context";
import { redirect } from "../respond";

/** `GET /oauth2/begin?t=…`: the API's startUrl. Binds this browser, then 303 to the consent screen. */
export async function begin(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "begin";
  requirePublicOrigin(deps);
  return redirect(await beginSession(deps, new URL(c.req.url).searchParams.get("t")));
}
