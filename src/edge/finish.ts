import { failureLevel, isFailureCode, type LogLevel } from "../failures/codes";
import { emitRequestLog, type RequestLog } from "../observability/log";
import { SECURITY_HEADERS } from "./headers";

/**
 * What every request ends with: the security headers plus its request id on
 * the response, and its one log line. Shared by the app's middleware and the
 * relay fast path so both answer and log identically.
 */
export function stampHeaders(headers: Headers, requestId: string): void {
  for (const name in SECURITY_HEADERS) headers.set(name, SECURITY_HEADERS[name] as string);
  headers.set("X-Request-Id", requestId);
}

/**
 * The same headers as a plain object, for building a response in one step on
 * the hot path: workerd converts a record much faster than a list of pairs or
 * one `set` per header (about 18 µs per request, measured with the bench).
 */
export function stampedHeaderRecord(
  requestId: string,
  extra: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...extra, ...SECURITY_HEADERS, "X-Request-Id": requestId };
}

const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 };

function higher(a: LogLevel, b: LogLevel): LogLevel {
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * The line's level follows the outcome, not only the HTTP status: a platform
 * or storage failure is an `error` even when the user was sent back with a
 * 303, and so is one the request worked around (`degraded`).
 */
export function levelOf(log: RequestLog, status: number): LogLevel {
  let level: LogLevel = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
  for (const code of [log.error, log.degraded]) {
    if (isFailureCode(code)) level = higher(level, failureLevel(code));
  }
  return level;
}

export function logRequest(log: RequestLog, status: number, requestId: string, started: number, ended: number): void {
  emitRequestLog({
    level: levelOf(log, status),
    msg: "request",
    ...log,
    status,
    requestId,
    durationMs: ended - started,
  });
}
