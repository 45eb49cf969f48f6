/**
 * Structured logs: one JSON line per request, plus rare event lines (config
 * problems). Fields are whitelisted by type: nothing here accepts a URL, a
 * query string, a header or a body, so codes, states, tokens and keys cannot
 * reach the log by accident.
 */

export type Route =
  | "relay"
  | "exchange"
  | "complete"
  | "health"
  | "start"
  | "begin"
  | "wait"
  | "session_status"
  | "api"
  | "asset"
  | "not_found";

export interface RequestLog {
  route: Route;
  method?: string;
  mode?: string;
  zone?: string;
  /** What happened, e.g. relayed, returned, fallback, replayed, failed. */
  outcome?: string;
  connectionId?: string;
  /** The failure code the request ended on (failures/codes.ts). */
  error?: string;
  /**
   * A failure code the request worked around (a KV read that failed, so a
   * fallback was used). The user got an answer, but the line is logged at the
   * code's level so the failure still alerts.
   */
  degraded?: string;
  /** The class name of an underlying error (never its message). */
  cause?: string;
  /** Peaka's HTTP status when it answered non-2xx: 401/403 point at the API key, 404 at the project id. */
  peakaStatus?: number;
  /** Where a zone or return URL came from: record, host, default. */
  source?: string;
  /** Set when the rate limiter did not count the request normally: unbound, failed, exceeded. */
  rateLimit?: string;
}

export interface RequestLogLine extends RequestLog {
  level: "info" | "warn" | "error";
  msg: "request";
  status: number;
  requestId: string;
  durationMs: number;
}

export function emitRequestLog(line: RequestLogLine): void {
  console.log(JSON.stringify(line));
}

export function emitEvent(
  level: "info" | "warn" | "error",
  event: string,
  fields: Record<string, string | number | boolean>,
): void {
  console.log(JSON.stringify({ level, msg: event, ...fields }));
}

/** The name of an error's class, safe to log: messages may quote URLs or input. */
export function causeName(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  // AppFailure wraps the interesting error (e.g. the KV exception): name that one.
  if (error.name === "AppFailure" && error.cause !== undefined) return causeName(error.cause);
  return error.name;
}
