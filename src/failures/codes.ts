/**
 * Every failed request ends on one of these codes. The same code appears in
 * the log line, the error page, the JSON body and the `error` parameter that
 * is appended to a return URL (except a user's denial, which carries the
 * provider's own error there), so one word traces a failure end to end.
 *
 * `level` is the log level of a request that ends on the code, whatever its
 * HTTP status: a platform or storage failure is an `error` even when the user
 * is sent back with a 303, so alerting follows the outcome.
 */
export const FAILURES = {
  invalid_request: {
    status: 400,
    message: "The request is missing a required parameter or has one in the wrong form.",
    level: "warn",
  },
  duplicate_parameter: {
    status: 400,
    message: "The request repeats a parameter that must appear once (code, state or iss).",
    level: "warn",
  },
  return_url_not_allowed: {
    status: 400,
    message: "The return address is not on this service's allow-list.",
    level: "warn",
  },
  unauthorized: { status: 401, message: "Missing or wrong credentials.", level: "warn" },
  link_invalid: {
    status: 403,
    message: "This connect link is not valid. Start again from the application.",
    level: "warn",
  },
  link_expired: {
    status: 403,
    message: "This connect link has expired. Start again from the application.",
    level: "warn",
  },
  browser_mismatch: {
    status: 403,
    message: "This sign-in was started in another browser, or has expired. Start again from the application.",
    level: "warn",
  },
  not_found: { status: 404, message: "There is nothing at this address.", level: "warn" },
  unknown_connection: {
    status: 404,
    message: "This connection attempt is unknown or has expired. Start again from the application.",
    level: "warn",
  },
  method_not_allowed: { status: 405, message: "This address does not accept that method.", level: "warn" },
  misdirected_request: {
    status: 421,
    message: "This address does not serve connections. Use the address the application gave you.",
    level: "warn",
  },
  payload_too_large: { status: 413, message: "The request body is too large.", level: "warn" },
  uri_too_long: { status: 414, message: "The address is too long.", level: "warn" },
  unsupported_media_type: { status: 415, message: "The request body has an unsupported content type.", level: "warn" },
  rate_limited: { status: 429, message: "Too many requests. Wait a moment and try again.", level: "warn" },
  connection_failed: {
    status: 502,
    message: "The platform reported that the connection failed.",
    level: "info",
  },
  provider_denied: { status: 400, message: "The provider did not grant access.", level: "info" },
  peaka_rejected: { status: 502, message: "Peaka did not accept the connection.", level: "error" },
  peaka_unavailable: { status: 503, message: "Peaka could not be reached. Try again in a moment.", level: "error" },
  storage_unavailable: {
    status: 503,
    message: "This service could not reach its storage. Try again in a moment.",
    level: "error",
  },
  config_invalid: { status: 500, message: "This service is not configured correctly.", level: "error" },
  api_disabled: { status: 503, message: "This API is disabled on this deployment.", level: "warn" },
  internal_error: { status: 500, message: "Something went wrong on our side.", level: "error" },
} as const satisfies Record<string, { status: number; message: string; level: LogLevel }>;

export type FailureCode = keyof typeof FAILURES;

export type LogLevel = "info" | "warn" | "error";

export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === "string" && Object.hasOwn(FAILURES, value);
}
