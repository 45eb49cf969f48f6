import { AppFailure } from "../failures/failure";
import { causeName, emitEvent, type RequestLog } from "../observability/log";

/**
 * The `[[ratelimits]]` bindings in wrangler.toml. Their period is fixed there
 * (10 or 60 seconds) and the binding does not report it, so the Retry-After
 * value is kept equal to it here (the rate-limit tests read wrangler.toml).
 */
export const RATE_LIMITS = {
  API_RATE_LIMITER: { periodSeconds: 60 },
  START_RATE_LIMITER: { periodSeconds: 60 },
  CALLBACK_RATE_LIMITER: { periodSeconds: 60 },
} as const;

export type RateLimiterName = keyof typeof RATE_LIMITS;

// The event line is written once per isolate (a missing binding is a
// deployment fact, not news on every request); each affected request still
// says so in its own log line through `rateLimit`.
const reported = new Set<string>();

function reportOnce(name: RateLimiterName, problem: string, fields: Record<string, string> = {}): void {
  const key = `${name}:${problem}`;
  if (reported.has(key)) return;
  reported.add(key);
  emitEvent("warn", problem, { binding: name, effect: "requests are not rate-limited", ...fields });
}

/**
 * Counts one request against `key` and throws rate_limited (429 with
 * Retry-After) once the binding's limit is reached. Without the binding, or
 * when it fails, the request goes through and the log says so: a missing
 * limiter must not take the entry points down with it.
 */
export async function enforceRateLimit(
  binding: RateLimit | undefined,
  name: RateLimiterName,
  key: string,
  log: RequestLog,
): Promise<void> {
  if (binding === undefined) {
    log.rateLimit = "unbound";
    reportOnce(name, "rate_limit_unbound");
    return;
  }
  let outcome: RateLimitOutcome;
  try {
    outcome = await binding.limit({ key });
  } catch (error) {
    log.rateLimit = "failed";
    reportOnce(name, "rate_limit_failed", { cause: causeName(error) });
    return;
  }
  if (!outcome.success) {
    log.rateLimit = "exceeded";
    throw new AppFailure("rate_limited", { headers: { "Retry-After": String(RATE_LIMITS[name].periodSeconds) } });
  }
}
