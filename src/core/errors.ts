import { ConfigError } from "../config/load";
import { AppFailure } from "../failures/failure";
import { StorageError } from "../storage/errors";
import { PlatformError } from "./platform";

/**
 * The one place where errors from below the core become wire failures:
 * storage errors are `storage_unavailable`, platform errors carry the code
 * their adapter chose, a ConfigError stays itself (the edge names its
 * variables), anything else is `internal_error`.
 */
export function toFailure(error: unknown, connectionId?: string): AppFailure | ConfigError {
  if (error instanceof AppFailure || error instanceof ConfigError) return error;
  if (error instanceof StorageError) return new AppFailure("storage_unavailable", { cause: error, connectionId });
  if (error instanceof PlatformError) {
    return new AppFailure(error.code, { cause: error, connectionId: connectionId ?? error.connectionId });
  }
  return new AppFailure("internal_error", { cause: error, connectionId });
}

/** `promise`, rejecting with its error as a wire failure (toFailure) naming `connectionId`. */
export function failing<T>(promise: Promise<T>, connectionId?: string): Promise<T> {
  return promise.catch((error: unknown) => {
    throw toFailure(error, connectionId);
  });
}

/** The platform's HTTP status behind a failure, if any, for the log line. */
export function platformStatusOf(error: unknown): number | undefined {
  if (error instanceof PlatformError) return error.platformStatus;
  return error instanceof Error && error.cause !== undefined ? platformStatusOf(error.cause) : undefined;
}

/**
 * A failure of a service the worker depends on (the platform, KV), as
 * opposed to bad input: after a verified start, the user is sent back to the
 * application with it rather than stranded on an error page.
 */
export function isServiceFailure(error: unknown): error is AppFailure {
  return error instanceof AppFailure && (error.cause instanceof PlatformError || error.cause instanceof StorageError);
}
