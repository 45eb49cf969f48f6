// @ts-check
/**
 * Signed start links: one dependency-free ES module that signs in a partner's
 * Node backend (Node 20+) and verifies in the worker. It uses only Web Crypto
 * (`globalThis.crypto.subtle`), URL and URLSearchParams, which both runtimes
 * implement identically, so a link signed in one verifies in the other.
 *
 * The signature is HMAC-SHA256 under LINK_SIGNING_KEY over a canonical form
 * of the link's parameters (see `canonicalPayload`); it is sent as `sig`,
 * base64url without padding.
 *
 * Plain JavaScript so that
 * `import { createStartLink } from "peaka-connect-edge/start-link"` works in
 * Node without a build step. Its types are the JSDoc here: start-link.d.ts is
 * generated from them (`npm run types`; `npm run typecheck` fails
 * when it is out of date).
 */

import { assertKey, base64url, encoder, fromBase64url, hmacKey } from "./hmac-key.js";

// The typedefs sit above an unexported constant so that tsc leaves their raw
// tags and this header out of start-link.d.ts along with it.

/**
 * What createStartLink needs.
 * @typedef {object} StartLinkInput
 * @property {string} baseUrl The worker's origin, e.g. https://connect.example.com.
 * @property {string} type Peaka connection type, e.g. google_analytics.
 * @property {string} name Name of the connection to create in Peaka.
 * @property {string} returnUrl Where the user returns afterwards; must be allowed by the worker's RETURN_ORIGINS.
 * @property {"us" | "eu"} [zone] Peaka zone; omitted, the worker picks by host (ZONE_BY_HOST) or PEAKA_ZONE.
 * @property {string} [reference] Your own key for the session (your user or tenant), 1-256 printable ASCII characters;
 *   returned by the status API, in webhooks and as the result's `ref`.
 * @property {"redirect" | "popup"} [display] How the flow ends: a redirect to returnUrl (default) or a popup page.
 * @property {"peaka" | "rivery"} [platform] Where the connection is made; omitted, Peaka. For Rivery, `type` is the datasource_id.
 * @property {number} [ttlSeconds] Lifetime in seconds, 1-900; default 600.
 * @property {number} [now] Current time in epoch milliseconds (tests); default Date.now().
 * @property {string} [nonce] One-time value (tests); default 16 random bytes, base64url.
 */

/**
 * A verified link's signed fields.
 * @typedef {object} StartLink
 * @property {string} type
 * @property {string} name
 * @property {string} returnUrl
 * @property {string} [zone]
 * @property {string} [reference]
 * @property {string} [display]
 * @property {string} [platform]
 * @property {number} exp Expiry, epoch seconds.
 * @property {string} nonce
 */

/**
 * Why verifyStartLink refused a link.
 * @typedef {"malformed"
 *   | "unexpected_parameter"
 *   | "duplicate_parameter"
 *   | "missing_parameter"
 *   | "bad_signature"
 *   | "expired"
 *   | "too_long_lived"} StartLinkRejection
 */

/**
 * What verifyStartLink answers.
 * @typedef {{ readonly ok: true, readonly link: StartLink }
 *   | { readonly ok: false, readonly reason: StartLinkRejection }} StartLinkCheck
 */

// A version prefix separates this use of the key from any other, and lets a
// later format coexist with links already handed out.
const PAYLOAD_PREFIX = "peaka-connect-edge/start-link/v1\n";

/** The worker's route for signed links. */
export const START_PATH = "/oauth2/start";

/** A link may not live longer than this after signing. */
export const MAX_LINK_TTL_SECONDS = 900;

/** Default lifetime of a link made by createStartLink. */
export const DEFAULT_LINK_TTL_SECONDS = 600;

/** How far the signer's clock may run ahead of the worker's. */
export const CLOCK_SKEW_SECONDS = 120;

/** Shortest accepted key: 32 characters, e.g. `openssl rand -base64 32`. */
export const MIN_KEY_LENGTH = 32;

/**
 * Signed parameters, in canonical order. `zone`, `reference`, `display` and
 * `platform` are optional; the rest are required. Only present fields are signed, so a
 * link made before an optional field existed keeps its payload and stays valid.
 */
export const SIGNED_FIELDS = /** @type {const} */ ([
  "type",
  "name",
  "returnUrl",
  "zone",
  "reference",
  "display",
  "platform",
  "exp",
  "nonce",
]);

const OPTIONAL_FIELDS = new Set(["zone", "reference", "display", "platform"]);

/** What the worker accepts as a reference: 1-256 printable ASCII characters. */
const REFERENCE = /^[\x20-\x7e]{1,256}$/;

/** Longest query string the verifier reads: a 2048-character return URL plus the rest, encoded. */
const MAX_QUERY_LENGTH = 8192;

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const EXP = /^[1-9][0-9]{0,11}$/;
const SIG = /^[A-Za-z0-9_-]{43}$/;

/**
 * The exact bytes that are signed: a version line, then the present fields in
 * SIGNED_FIELDS order, form-encoded. Form encoding escapes `&`, `=` and
 * newlines inside values, so no two different links share a payload.
 * @param {Readonly<Record<string, string | undefined>>} fields
 * @returns {string}
 */
export function canonicalPayload(fields) {
  const params = new URLSearchParams();
  for (const name of SIGNED_FIELDS) {
    const value = fields[name];
    if (value !== undefined) params.append(name, value);
  }
  return PAYLOAD_PREFIX + params.toString();
}

/**
 * @param {Readonly<Record<string, string | undefined>>} fields
 * @param {string} key
 * @returns {Promise<string>}
 */
export async function signPayload(fields, key) {
  assertKey(key, MIN_KEY_LENGTH, "link signing key");
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(key), encoder.encode(canonicalPayload(fields)));
  return base64url(new Uint8Array(mac));
}

/** @returns {string} 16 random bytes, base64url. */
function randomNonce() {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * Builds a signed start link. Call it on your server, right before sending
 * the user to the worker: the link expires after `ttlSeconds` (at most 900)
 * and works once.
 *
 * @param {StartLinkInput} input
 * @param {string} key LINK_SIGNING_KEY, the same secret the worker has.
 * @returns {Promise<string>} The link, e.g. https://connect.example.com/oauth2/start?type=…&sig=…
 */
export async function createStartLink(input, key) {
  assertKey(key, MIN_KEY_LENGTH, "link signing key");
  const { baseUrl, type, name, returnUrl, zone, reference, display, platform } = input;
  for (const [field, value] of /** @type {const} */ ([
    ["baseUrl", baseUrl],
    ["type", type],
    ["name", name],
    ["returnUrl", returnUrl],
  ])) {
    if (typeof value !== "string" || value === "") throw new TypeError(`createStartLink: ${field} is required.`);
  }
  if (zone !== undefined && zone !== "us" && zone !== "eu") {
    throw new TypeError('createStartLink: zone must be "us" or "eu" when given.');
  }
  if (platform !== undefined && platform !== "peaka" && platform !== "rivery") {
    throw new TypeError('createStartLink: platform must be "peaka" or "rivery" when given.');
  }
  if (reference !== undefined && (typeof reference !== "string" || !REFERENCE.test(reference))) {
    throw new TypeError("createStartLink: reference must be 1-256 printable ASCII characters when given.");
  }
  if (display !== undefined && display !== "redirect" && display !== "popup") {
    throw new TypeError('createStartLink: display must be "redirect" or "popup" when given.');
  }
  const ttl = input.ttlSeconds ?? DEFAULT_LINK_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LINK_TTL_SECONDS) {
    throw new TypeError(`createStartLink: ttlSeconds must be a whole number from 1 to ${MAX_LINK_TTL_SECONDS}.`);
  }
  const now = input.now ?? Date.now();
  const nonce = input.nonce ?? randomNonce();
  if (!NONCE.test(nonce)) throw new TypeError("createStartLink: nonce must be 16-128 characters of A-Z a-z 0-9 _ -.");

  /** @type {Record<string, string | undefined>} */
  const fields = {
    type,
    name,
    returnUrl,
    zone,
    reference,
    display,
    platform,
    exp: String(Math.floor(now / 1000) + ttl),
    nonce,
  };
  const sig = await signPayload(fields, key);
  const url = new URL(START_PATH, baseUrl);
  for (const field of SIGNED_FIELDS) {
    const value = fields[field];
    if (value !== undefined) url.searchParams.append(field, value);
  }
  url.searchParams.append("sig", sig);
  return url.href;
}

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
export async function verifyStartLink(query, key, options = {}) {
  assertKey(key, MIN_KEY_LENGTH, "link signing key");
  if (query.length > MAX_QUERY_LENGTH) return { ok: false, reason: "malformed" };
  const params = new URLSearchParams(query);
  /** @type {Record<string, string>} */
  const fields = {};
  /** @type {string | undefined} */
  let sig;
  for (const [name, value] of params) {
    const known = name === "sig" || /** @type {readonly string[]} */ (SIGNED_FIELDS).includes(name);
    // Unknown parameters are refused rather than ignored, and a repeated one
    // (two returnUrl values) is refused rather than resolved: whatever the
    // worker acts on must be exactly what was signed.
    if (!known) return { ok: false, reason: "unexpected_parameter" };
    if (name === "sig" ? sig !== undefined : Object.hasOwn(fields, name))
      return { ok: false, reason: "duplicate_parameter" };
    if (name === "sig") sig = value;
    else fields[name] = value;
  }
  for (const name of SIGNED_FIELDS) {
    if (!OPTIONAL_FIELDS.has(name) && !Object.hasOwn(fields, name)) return { ok: false, reason: "missing_parameter" };
  }
  if (sig === undefined || !SIG.test(sig)) return { ok: false, reason: "bad_signature" };
  const mac = fromBase64url(sig);
  // 43 characters carry 2 spare bits: only the canonical spelling is one
  // signature, so a link cannot be re-spelled into a second valid one.
  if (base64url(mac) !== sig) return { ok: false, reason: "bad_signature" };
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(key), mac, encoder.encode(canonicalPayload(fields)));
  if (!valid) return { ok: false, reason: "bad_signature" };

  const { exp = "", nonce = "" } = fields;
  if (!EXP.test(exp) || !NONCE.test(nonce)) return { ok: false, reason: "malformed" };
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  const expiresAt = Number(exp);
  if (expiresAt <= nowSeconds) return { ok: false, reason: "expired" };
  // The worker cannot see when a link was signed, only when it ends: a link
  // ending further out than the longest lifetime was not made by the rules.
  if (expiresAt > nowSeconds + MAX_LINK_TTL_SECONDS + CLOCK_SKEW_SECONDS)
    return { ok: false, reason: "too_long_lived" };
  // Every field here is a signed one, and the required ones are present (checked above).
  return { ok: true, link: /** @type {StartLink} */ ({ ...fields, exp: expiresAt }) };
}
