import type { Context, Next } from "hono";
import { ConfigError } from "../../../config/load";
import { requirePublicOrigin } from "../../../core/binding";
import { enforceRateLimit } from "../../../core/rate-limit";
import { AppFailure } from "../../../failures/failure";
import { equalSecrets } from "../../../security/constant-time";
import { sha256Hex } from "../../../security/hash";
import type { AppEnv } from "../../context";

const BEARER = /^Bearer +([\x21-\x7e]{1,4096})$/i;

/**
 * Guards every `/api/*` request: the API exists only when ADMIN_TOKEN is
 * set, the caller presents it as a bearer token (compared in constant time),
 * and then counts against the rate limit keyed by the token's hash.
 */
export async function authorizeApi(c: Context<AppEnv>, next: Next): Promise<void> {
  c.get("log").route = "api";
  const secret = c.get("config").adminToken;
  if (secret.state === "unset") {
    throw new AppFailure("api_disabled", { detail: "Set the ADMIN_TOKEN secret to enable it." });
  }
  if (secret.state === "invalid") throw new ConfigError([secret.problem]);
  // Only on a listed origin: the callbacks this API hands to Peaka come from it.
  requirePublicOrigin(c.get("deps"));

  const presented = BEARER.exec(c.req.header("authorization")?.trim() ?? "")?.[1];
  if (presented === undefined || !(await equalSecrets(presented, secret.value))) {
    throw new AppFailure("unauthorized", {
      detail: "Send Authorization: Bearer <ADMIN_TOKEN>.",
      headers: { "WWW-Authenticate": 'Bearer realm="peaka-connect-edge"' },
    });
  }
  await enforceRateLimit(c.env.API_RATE_LIMITER, "API_RATE_LIMITER", await sha256Hex(presented), c.get("log"));
  await next();
}
