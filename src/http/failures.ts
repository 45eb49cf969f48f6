/**
 * Every failed request ends on one of these codes. The same code appears in
 * the log line, the error page, the JSON body and the `error` parameter that
 * is appended to a return URL, so one word traces a failure end to end.
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
  return_url_not_allowed: { status: 400, message: "The return address is not on this service's allow-list." },
  unauthorized: { status: 401, message: "Missing or wrong credentials." },
  link_invalid: { status: 403, message: "This connect link is not valid. Start again from the application." },
  link_expired: { status: 403, message: "This connect link has expired. Start again from the application." },
  not_found: { status: 404, message: "There is nothing at this address." },
  unknown_connection: {
    status: 404,
    message: "This connection attempt is unknown or has expired. Start again from the application.",
  },
  method_not_allowed: { status: 405, message: "This address does not accept that method." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  uri_too_long: { status: 414, message: "The address is too long." },
  unsupported_media_type: { status: 415, message: "The request body has an unsupported content type." },
  rate_limited: { status: 429, message: "Too many requests. Wait a moment and try again." },
  provider_denied: { status: 400, message: "The provider did not grant access." },
  peaka_rejected: { status: 502, message: "Peaka did not accept the connection." },
  peaka_unavailable: { status: 503, message: "Peaka could not be reached. Try again in a moment." },
  storage_unavailable: { status: 503, message: "This service could not reach its storage. Try again in a moment." },
  config_invalid: { status: 500, message: "This service is not configured correctly." },
  api_disabled: { status: 503, message: "This API is disabled on this deployment." },
  internal_error: { status: 500, message: "Something went wrong on our side." },
} as const satisfies Record<string, { status: number; message: string }>;

export type FailureCode = keyof typeof FAILURES;

/** One rejected input field of an API request: its path (e.g. `credential.clientId`) and the rule it broke. */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

export interface FailureOptions {
  /** Shown and logged; a connection id is not a secret. */
  readonly connectionId?: string | undefined;
  /** Safe, user-facing detail appended to the message (never a secret or raw input). */
  readonly detail?: string | undefined;
  /** The underlying error, for the log line's `cause` (its name only). */
  readonly cause?: unknown;
  /** Extra response headers, e.g. Allow or Retry-After. */
  readonly headers?: Readonly<Record<string, string>>;
  /** For API clients: which input fields were rejected (names and rules, never the values). */
  readonly fields?: readonly FieldProblem[];
}

/** A failure the app knows how to present. Thrown from anywhere below the routes. */
export class AppFailure extends Error {
  override readonly name = "AppFailure";
  readonly code: FailureCode;
  readonly status: number;
  readonly connectionId: string | undefined;
  readonly detail: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly fields: readonly FieldProblem[] | undefined;
  constructor(code: FailureCode, options: FailureOptions = {}) {
    super(code, { cause: options.cause });
    this.code = code;
    this.status = FAILURES[code].status;
    this.connectionId = options.connectionId;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.fields = options.fields;
  }
}
