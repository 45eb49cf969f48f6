/**
 * Bindings and variables the worker reads. Every variable is optional here:
 * `loadConfig` decides what is required, so that a missing value becomes a
 * clear `config_invalid` answer naming the variable instead of a crash.
 */
export interface Env {
  CONNECTIONS: KVNamespace;
  PEAKA_ZONE?: string;
  PEAKA_PROJECT_ID?: string;
  PEAKA_US_PROJECT_ID?: string;
  PEAKA_EU_PROJECT_ID?: string;
  PEAKA_API_KEY?: string;
  PEAKA_US_API_KEY?: string;
  PEAKA_EU_API_KEY?: string;
  PEAKA_US_API_URL?: string;
  PEAKA_EU_API_URL?: string;
  PEAKA_US_CALLBACK_URL?: string;
  PEAKA_EU_CALLBACK_URL?: string;
  PEAKA_TIMEOUT_MS?: string;
  ZONE_BY_HOST?: string;
  CALLBACK_MODE?: string;
  CALLBACK_PATH?: string;
  COMPLETE_PATH?: string;
  RETURN_ORIGINS?: string;
  DEFAULT_RETURN_URL?: string;
  ERROR_URL?: string;
  RECORD_TTL_SECONDS?: string;
  /** Bearer token of the server API (`/api/v1/…`); unset, the API answers 503 api_disabled. */
  ADMIN_TOKEN?: string;
  /** HMAC key of signed start links (`/oauth2/start`); unset, links answer 503 api_disabled. */
  LINK_SIGNING_KEY?: string;
  /** `[[ratelimits]]` bindings; absent, requests go through unlimited and the log says so. */
  API_RATE_LIMITER?: RateLimit;
  START_RATE_LIMITER?: RateLimit;
}

/** Env members that are bindings rather than text variables. */
export type BindingName = "CONNECTIONS" | "API_RATE_LIMITER" | "START_RATE_LIMITER";

/** Variables whose values must never appear in a page, a log line or an error message. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  "PEAKA_API_KEY",
  "PEAKA_US_API_KEY",
  "PEAKA_EU_API_KEY",
  "ADMIN_TOKEN",
  "LINK_SIGNING_KEY",
]);
