import type { Clock } from "../../clock";
import type { Config } from "../../config/types";
import { findDuplicate } from "../../core/callback-params";
import { zoneForHost } from "../../core/zone";
import type { RequestLog } from "../../observability/log";
import { relayRedirect } from "../../platforms/peaka/callbacks";
import { logRequest, stampedHeaderRecord } from "../finish";
import { MAX_URL_LENGTH, rawQuery } from "../query";

/**
 * The relay's common case, answered before the router: a GET or HEAD to
 * CALLBACK_PATH in relay mode with one relay zone, so no KV and no body.
 * It sits on every OAuth callback's path, and skipping the router, the
 * per-request context and header-by-header stamping roughly halves the
 * worker's own cost there (docs/benchmarks.md).
 *
 * It answers only when the outcome is a relay. Anything else (another path
 * or method, a duplicated parameter, an over-long URL, two relay zones, a
 * zone without a callback, BROWSER_BINDING=required, which needs the state
 * record) returns undefined and the full app answers, errors included,
 * exactly as without this path. With CALLBACK_RATE_LIMITER bound it first
 * asks the limiter, and leaves anything but a plain pass to the full app
 * (which then answers 429 and logs it). test/relay-fast.test.ts holds the
 * two paths to the same status, headers and log line.
 */
export function relayFastPath(
  request: Request,
  config: Config,
  clock: Clock,
  limiter?: RateLimit,
): Response | Promise<Response | undefined> | undefined {
  if (config.mode !== "relay" || config.browserBinding === "required" || config.relayZones.length > 1) {
    return undefined;
  }
  const method = request.method;
  if (method !== "GET" && method !== "HEAD") return undefined;
  const href = request.url;
  if (href.length > MAX_URL_LENGTH) return undefined;
  const url = new URL(href);
  if (url.pathname !== config.callbackPath) return undefined;
  const raw = rawQuery(href);
  if (raw !== "" && findDuplicate(new URLSearchParams(raw))) return undefined;
  const { zone, source } = zoneForHost(config, url.host);
  if (config.zones[zone].callbackUrl === undefined) return undefined;

  const answer = (): Response => {
    const started = clock.now();
    const requestId = crypto.randomUUID();
    const { location } = relayRedirect(config, zone, raw);
    const headers = stampedHeaderRecord(requestId, { Location: location });
    const response = new Response(null, { status: 307, headers });
    const log: RequestLog = { route: "relay", method, mode: "relay", zone, source, outcome: "relayed" };
    logRequest(log, 307, requestId, started, clock.now());
    return response;
  };
  const ip = request.headers.get("cf-connecting-ip");
  if (limiter === undefined || ip === null) return answer();
  return limiter.limit({ key: ip }).then(
    (outcome) => (outcome.success ? answer() : undefined),
    () => undefined,
  );
}
