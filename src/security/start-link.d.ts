/** Declarations for start-link.js (plain ESM so that Node imports it without a build step). */

export declare const START_PATH: "/oauth2/start";
export declare const MAX_LINK_TTL_SECONDS: 900;
export declare const DEFAULT_LINK_TTL_SECONDS: 600;
export declare const CLOCK_SKEW_SECONDS: 120;
export declare const MIN_KEY_LENGTH: 32;
export declare const SIGNED_FIELDS: readonly ["type", "name", "returnUrl", "zone", "exp", "nonce"];

export interface StartLinkInput {
  /** The worker's origin, e.g. https://connect.example.com. */
  readonly baseUrl: string;
  /** Peaka connection type, e.g. google_analytics. */
  readonly type: string;
  /** Name of the connection to create in Peaka. */
  readonly name: string;
  /** Where the user returns afterwards; must be allowed by the worker's RETURN_ORIGINS. */
  readonly returnUrl: string;
  /** Peaka zone; omitted, the worker picks by host (ZONE_BY_HOST) or PEAKA_ZONE. */
  readonly zone?: "us" | "eu";
  /** Lifetime in seconds, 1-900; default 600. */
  readonly ttlSeconds?: number;
  /** Current time in epoch milliseconds (tests); default Date.now(). */
  readonly now?: number;
  /** One-time value (tests); default 16 random bytes, base64url. */
  readonly nonce?: string;
}

export interface StartLink {
  readonly type: string;
  readonly name: string;
  readonly returnUrl: string;
  readonly zone?: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
  readonly nonce: string;
}

export type StartLinkRejection =
  | "malformed"
  | "unexpected_parameter"
  | "duplicate_parameter"
  | "missing_parameter"
  | "bad_signature"
  | "expired"
  | "too_long_lived";

export type StartLinkCheck =
  | { readonly ok: true; readonly link: StartLink }
  | { readonly ok: false; readonly reason: StartLinkRejection };

export declare function canonicalPayload(fields: Readonly<Record<string, string | undefined>>): string;
export declare function signPayload(fields: Readonly<Record<string, string | undefined>>, key: string): Promise<string>;
export declare function createStartLink(input: StartLinkInput, key: string): Promise<string>;
export declare function verifyStartLink(
  query: string,
  key: string,
  options?: { readonly now?: number },
): Promise<StartLinkCheck>;
