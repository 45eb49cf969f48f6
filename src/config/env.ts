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
}

/** Variables whose values must never appear in a page, a log line or an error message. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(["PEAKA_API_KEY", "PEAKA_US_API_KEY", "PEAKA_EU_API_KEY"]);
