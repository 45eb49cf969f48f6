// Generated from start-link.js by `npm run types`: change the JSDoc there, not this file.
/**
 * The exact bytes that are signed: a version line, then the present fields in
 * SIGNED_FIELDS order, form-encoded. Form encoding escapes `&`, `=` and
 * newlines inside values, so no two different links share a payload.
 * @param {Readonly<Record<string, string | undefined>>} fields
 * @returns {string}
 */
export function canonicalPayload(fields: Readonly<Record<string, string | undefined>>): string;
/**
 * @param {Readonly<Record<string, string | undefined>>} fields
 * @param {string} key
 * @returns {Promise<string>}
 */
export function signPayload(fields: Readonly<Record<string, string | undefined>>, key: string): Promise<string>;
/**
 * Builds a signed start link. Call it on your server, right before sending
 * the user to the worker: the link expires after `ttlSeconds` (at most 900)
 * and works once.
 *
 * @param {StartLinkInput} input
 * @param {string} key LINK_SIGNING_KEY, the same secret the worker has.
 * @returns {Promise<string>} The link, e.g. https://connect.example.com/oauth2/start?type=…&sig=…
 */
export function createStartLink(input: StartLinkInput, key: string): Promise<string>;
/**
 * Checks a start link's query string: every parameter known and present at
 * most once, the HMAC valid (compared in constant time by Web Crypto's
 * `verify`), then the expiry. Field contents (type, return URL, zone) are
 * the caller's to validate, after this has proved they were signed.
 *
 * @param {string} query The raw query string, without `?`.
 * @param {string} key
 * @param {{ readonly now?: number }} [options]
 * @returns {Promise<StartLinkCheck>}
 */
export function verifyStartLink(
  query: string,
  key: string,
  options?: {
    readonly now?: number;
  },
): Promise<StartLinkCheck>;
/** The worker's route for signed links. */
export const START_PATH: "/oauth2/start";
/** A link may not live longer than this after signing. */
export const MAX_LINK_TTL_SECONDS: 900;
/** Default lifetime of a link made by createStartLink. */
export const DEFAULT_LINK_TTL_SECONDS: 600;
/** How far the signer's clock may run ahead of the worker's. */
export const CLOCK_SKEW_SECONDS: 120;
/** Shortest accepted key: 32 characters, e.g. `openssl rand -base64 32`. */
export const MIN_KEY_LENGTH: 32;
/**
 * Signed parameters, in canonical order. `zone`, `reference`, `display` and
 * `platform` are optional; the rest are required. Only present fields are signed, so a
 * link made before an optional field existed keeps its payload and stays valid.
 */
export const SIGNED_FIELDS: readonly [
  "type",
  "name",
  "returnUrl",
  "zone",
  "reference",
  "display",
  "platform",
  "exp",
  "nonce",
];
/**
 * What createStartLink needs.
 */
export type StartLinkInput = {
  /**
   * The worker's origin, e.g. https://connect.example.com.
   */
  baseUrl: string;
  /**
   * Peaka connection type, e.g. google_analytics.
   */
  type: string;
  /**
   * Name of the connection to create in Peaka.
   */
  name: string;
  /**
   * Where the user returns afterwards; must be allowed by the worker's RETURN_ORIGINS.
   */
  returnUrl: string;
  /**
   * Peaka zone; omitted, the worker picks by host (ZONE_BY_HOST) or PEAKA_ZONE.
   */
  zone?: "us" | "eu" | undefined;
  /**
   * Your own key for the session (your user or tenant), 1-256 printable ASCII characters;
   * returned by the status API, in webhooks and as the result's `ref`.
   */
  reference?: string | undefined;
  /**
   * How the flow ends: a redirect to returnUrl (default) or a popup page.
   */
  display?: "redirect" | "popup" | undefined;
  /**
   * Where the connection is made; omitted, Peaka. For Rivery, `type` is the datasource_id.
   */
  platform?: "peaka" | "rivery" | undefined;
  /**
   * Lifetime in seconds, 1-900; default 600.
   */
  ttlSeconds?: number | undefined;
  /**
   * Current time in epoch milliseconds (tests); default Date.now().
   */
  now?: number | undefined;
  /**
   * One-time value (tests); default 16 random bytes, base64url.
   */
  nonce?: string | undefined;
};
/**
 * A verified link's signed fields.
 */
export type StartLink = {
  type: string;
  name: string;
  returnUrl: string;
  zone?: string | undefined;
  reference?: string | undefined;
  display?: string | undefined;
  platform?: string | undefined;
  /**
   * Expiry, epoch seconds.
   */
  exp: number;
  nonce: string;
};
/**
 * Why verifyStartLink refused a link.
 */
export type StartLinkRejection =
  | "malformed"
  | "unexpected_parameter"
  | "duplicate_parameter"
  | "missing_parameter"
  | "bad_signature"
  | "expired"
  | "too_long_lived";
/**
 * What verifyStartLink answers.
 */
export type StartLinkCheck =
  | {
      readonly ok: true;
      readonly link: StartLink;
    }
  | {
      readonly ok: false;
      readonly reason: StartLinkRejection;
    };
