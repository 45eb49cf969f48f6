import type { Context } from "hono";
import { requirePublicOrigin } from "../../core/binding";
import { enforceRateLimit } from "../../core/rate-limit";
import { acceptStartLink, linkSigningKey, startFromLink } from "../../core/start-link";
import { peakaAdapter } from "../../platforms/peaka/adapter";
import { startRiveryFromLink } from "../../platforms/rivery/flow";
import type { AppEnv } from "../context";
import { rawQuery } from "../query";
import { redirect } from "../respond";

/**
 * `GET /oauth2/start`: a signed "Connect" link. Verified (signature, expiry,
 * once only), then the connection is created and the browser goes on to the
 * consent screen with a 303; for Rivery, to the waiting page.
 */
export async function start(c: Context<AppEnv>): Promise<Response> {
  const deps = c.get("deps");
  deps.log.route = "start";
  deps.log.mode = deps.config.mode;
  requirePublicOrigin(deps);
  linkSigningKey(deps);
  await enforceRateLimit(
    c.env.START_RATE_LIMITER,
    "START_RATE_LIMITER",
    c.req.header("cf-connecting-ip") ?? "unknown",
    deps.log,
  );
  const link = await acceptStartLink(deps, rawQuery(c.req.url));
  if (link.platform === "rivery") return redirect(await startRiveryFromLink(deps, link));
  return redirect(await startFromLink(deps, peakaAdapter, link));
}
