import type { Zone } from "../config/types";
import type { FailureCode } from "../failures/codes";
import type { Deps } from "./deps";

/** The platforms this worker runs flows for. */
export const PLATFORM_NAMES = ["peaka", "rivery"] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

/**
 * Base of every platform client's errors. The adapter decides the wire code
 * (`code`); core/errors.ts turns it into the failure the user sees, so the
 * core never names a platform.
 */
export abstract class PlatformError extends Error {
  abstract readonly code: FailureCode;
  /** The platform's HTTP status when it answered non-2xx, for the log line. */
  abstract readonly platformStatus: number | undefined;
  /** The connection the platform had already created when it failed, so it can be traced. */
  connectionId?: string;
}

export interface Warning {
  readonly code: "redirect_uri_mismatch";
  readonly message: string;
}

/** What a start asks the platform for, after the core has checked the return URL and picked the zone. */
export interface CreateInput {
  readonly type: string;
  readonly name: string;
  readonly zone: Zone;
  readonly credential?: Readonly<Record<string, string>> | undefined;
}

export interface Created {
  /** Absent when the platform creates the connection only after consent (Rivery: after the credentials arrive). */
  readonly connectionId?: string;
  /**
   * What the platform needs later to finish the connection (Rivery's pull_id):
   * a secret-grade value, kept only sealed beside the consent URL.
   */
  readonly resume?: string;
  /** Where the browser goes next; absent when the connection needs no consent. */
  readonly consentUrl?: URL;
  readonly warnings: readonly Warning[];
}

/**
 * A platform as the core sees it: creating a connection, and checking a
 * consent URL the partner obtained itself. Callback semantics (relay,
 * exchange, completion for Peaka) are the adapter's own functions, reached
 * from its own routes; they use the core for the records and the way back.
 */
export interface PlatformAdapter {
  readonly platform: PlatformName;
  /** Throws a PlatformError when the platform fails, AppFailure for bad input. */
  create(deps: Deps, input: CreateInput): Promise<Created>;
  /** What would keep the user from coming back through this worker, e.g. a foreign redirect_uri. */
  checkConsentUrl(deps: Deps, zone: Zone, consentUrl: URL, connectionId: string): readonly Warning[];
}
