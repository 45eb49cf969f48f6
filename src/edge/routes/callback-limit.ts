import type { Context } from "hono";
import { enforceRateLimit } from "../../core/rate-limit";
import type { AppEnv } from "../context";

/**
 * CALLBACK_RATE_LIMITER: the callback and completion routes, per client IP,
 * before any KV read or call to Peaka. A request without CF-Connecting-IP
 * (only local runs: Cloudflare always sets it) is not counted, so local
 * tools do not share one bucket.
 */
export async function limitCallbacks(c: Context<AppEnv>): Promise<void> {
  const ip = c.req.header("cf-connecting-ip");
  if (ip === undefined) return;
  await enforceRateLimit(c.env.CALLBACK_RATE_LIMITER, "CALLBACK_RATE_LIMITER", ip, c.get("log"));
}
