/**
 * Every failed request ends on one of these codes. The same code appears in
 * the log line, the error page, the JSON body and the `error` parameter that
 * is appended to a return URL (except a user's denial, which carries the
 * provider's own error there), so one word traces a failure end to end.
 *
 * `failureLevel` gives the log level of a request that ends on a code,
 * whatever its HTTP status: a platform or storage failure is an `error` even
 * when the user is sent back with a 303, so alerting follows the outcome.
 */
export const FAILURES = {
  invalid_request: {
    status: 400,
    message: "The request is missing a required parameter or has one in the wrong form.",
  },
  duplicate_parameter: {
    status: 400,
    message: "The request repeats a parameter that must appear once (code, state or iss).",
  },
  return_url_not_allowed: {
    status: 400,
    message: "The return address is not on this service's allow-list.",
  },
  unauthorized: { status: 401, message: "Missing or wrong credentials." },
  link_invalid: {
    status: 403,
    message: "This connect link is not valid. Start again from the application.",
  },
  link_expired: {
    status: 403,
    message: "This connect link has expired. Start again from the application.",
  },
  browser_mismatch: { status: 403, message: "This sign-in belongs to another browser. Start again from the app." },
  not_found: { status: 404, message: "There is nothing at this address." },
  unknown_connection: {
    status: 404,
    message: "This connection attempt is unknown or has expired. Start again from the application.",
  },
  session_not_found: { status: 404, message: "This session is unknown or has expired." },
  method_not_allowed: { status: 405, message: "This address does not accept that method." },
  misdirected_request: { status: 421, message: "This host does not serve connections. Use the app's link." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  uri_too_long: { status: 414, message: "The address is too long." },
  unsupported_media_type: { status: 415, message: "The request body has an unsupported content type." },
  rate_limited: { status: 429, message: "Too many requests. Wait a moment and try again." },
  connection_failed: { status: 502, message: "The platform reported the connection as failed." },
  provider_denied: { status: 400, message: "The provider did not grant access." },
  peaka_rejected: { status: 502, message: "Peaka did not accept the connection." },
  peaka_unavailable: { status: 503, message: "Peaka could not be reached. Try again in a moment." },
  rivery_rejected: { status: 502, message: "Rivery did not accept the connection." },
  rivery_unavailable: { status: 503, message: "Rivery could not be reached. Try again in a moment." },
  expired: { status: 410, message: "The time to authorise ran out. Start again from the application." },
  storage_unavailable: {
    status: 503,
    message: "This service could not reach its storage. Try again in a moment.",
  },
  config_invalid: { status: 500, message: "This service is not configured correctly." },
  api_disabled: { status: 503, message: "This API is disabled on this deployment." },
  internal_error: { status: 500, message: "Something went wrong on our side." },
} as const satisfies Record<string, { status: number; message: string }>;

export type FailureCode = keyof typeof FAILURES;

export type LogLevel = "info" | "warn" | "error";

/** Failures of what the worker depends on (a platform, KV, its own configuration): they alert. */
const ERROR_LEVEL: ReadonlySet<FailureCode> = new Set([
  "peaka_rejected",
  "peaka_unavailable",
  "rivery_rejected",
  "rivery_unavailable",
  "storage_unavailable",
  "config_invalid",
  "internal_error",
]);

/** Outcomes that are the user's or the platform's choice, not a fault. */
const INFO_LEVEL: ReadonlySet<FailureCode> = new Set(["provider_denied", "connection_failed", "expired"]);

/** The log level of a request that ends on `code`, whatever its HTTP status; anything else is a warning. */
export function failureLevel(code: FailureCode): LogLevel {
  return ERROR_LEVEL.has(code) ? "error" : INFO_LEVEL.has(code) ? "info" : "warn";
}

export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === "string" && Object.hasOwn(FAILURES, value);
}
