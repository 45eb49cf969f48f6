import type { Context, Next } from "hono";
import { ConfigError } from "../../../config/load";
import { requirePublicOrigin } from "../../../core/binding";
import { enforceRateLimit } from "../../../core/rate-limit";
import { AppFailure } from "../../../failures/failure";
import { equalSecrets } from "../../../security/constant-time";
import { sha256Hex } from "../../../security/hash";
import type { AppEnv } from "../../context";

const BEARER = /^Bearer +([\x21-\x7e]{1,4096})$/i;

/** Compares with every token, so the timing does not tell which one matched. */
async function matchesAny(presented: string, tokens: (string | undefined)[]): Promise<boolean> {
  const results = await Promise.all(tokens.map((t) => t !== undefined && equalSecrets(presented, t)));
  return results.includes(true);
}

/**
 * Guards every `/api/*` request: the API exists only when ADMIN_TOKEN is
 * set, the caller presents it (or, during a rotation, ADMIN_TOKEN_PREVIOUS)
 * as a bearer token, compared in constant time with both, and then counts
 * against the rate limit keyed by the presented token's hash: each token has
 * its own budget.
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
  if (presented === undefined || !(await matchesAny(presented, [secret.value, secret.previous]))) {
    throw new AppFailure("unauthorized", {
      detail: "Send Authorization: Bearer <ADMIN_TOKEN>.",
      headers: { "WWW-Authenticate": 'Bearer realm="peaka-connect-edge"' },
    });
  }
  await enforceRateLimit(c.env.API_RATE_LIMITER, "API_RATE_LIMITER", await sha256Hex(presented), c.get("log"));
  await next();
}
