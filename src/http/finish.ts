import { SECURITY_HEADERS } from "./headers";
import { emitRequestLog, type RequestLog } from "./log";

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

export function logRequest(log: RequestLog, status: number, requestId: string, started: number): void {
  emitRequestLog({
    level: status >= 500 ? "error" : status >= 400 ? "warn" : "info",
    msg: "request",
    ...log,
    status,
    requestId,
    durationMs: Date.now() - started,
  });
}
