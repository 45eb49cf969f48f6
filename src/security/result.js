// @ts-check
/**
 * The signed `result` a return URL carries: a JWT (compact JWS, HS256) that
 * the worker signs under RESULT_SIGNING_KEY and a partner's backend checks,
 * with `verifyResult` from this module or with any JWT library. One
 * dependency-free ES module for both sides: it uses only Web Crypto
 * (`globalThis.crypto.subtle`), TextEncoder/TextDecoder and atob/btoa, which
 * the Workers runtime and Node 20+ implement alike.
 *
 * The HMAC key is the secret's UTF-8 bytes. Only HS256 is signed or
 * accepted: the algorithm is fixed here, never taken from a token's header.
 * The header's `kid` names the key (`resultKeyId`), so that during a key
 * rotation a verifier holding both keys picks the right one.
 *
 * Plain JavaScript so that `import { verifyResult } from
 * "peaka-connect-edge/result"` works in Node without a build step. Its types
 * are the JSDoc here: result.d.ts is generated from them (`npm run
 * types`; `npm run typecheck` fails when it is out of date).
 */

import { assertKey, base64url, encoder, hmacKey } from "./hmac-key.js";

// The typedefs sit above an unexported constant so that tsc leaves their raw
// tags and this header out of result.d.ts along with it.

/**
 * Why verifyResult refused a token (ResultVerificationError's `code`):
 * `malformed`: not three base64url parts, or a header or payload that is not a
 * JSON object, or a header that is not plain (`typ` other than JWT, `crit`).
 * `algorithm`: `alg` is not exactly HS256 (`none`, HS384, RS256, …).
 * `signature`: the HMAC does not match: another key, or a changed token.
 * `audience`, `issuer`: `aud` or `iss` is not the expected origin.
 * `expired`: `exp` has passed. `not_yet_valid`: `iat` (or `nbf`) is in the future.
 * `claims`: a claim has the wrong type or value, or `exp - iat` exceeds 600.
 * @typedef {typeof RESULT_ERROR_CODES[number]} ResultErrorCode
 */

/**
 * What the worker signs. `iat`, `exp` and (unless given) `jti` are added by
 * `signResult`. Further claims, e.g. `sid` and `ref`, must be strings; an
 * undefined one is left out.
 * @typedef {{
 *   iss: string,
 *   aud: string,
 *   sub?: string,
 *   status: "success" | "fail",
 *   error?: string,
 *   zone?: string,
 *   via?: "exchange" | "redirect",
 *   sid?: string,
 *   ref?: string,
 *   jti?: string,
 *   [claim: string]: string | undefined,
 * }} ResultInput
 */

/**
 * The claims of a verified result. Claims this version does not know are
 * passed through as they were signed.
 * @typedef {{
 *   iss: string,
 *   aud: string,
 *   sub?: string,
 *   status: "success" | "fail",
 *   error?: string,
 *   zone?: string,
 *   via?: "exchange" | "redirect",
 *   sid?: string,
 *   ref?: string,
 *   iat: number,
 *   exp: number,
 *   jti: string,
 *   [claim: string]: unknown,
 * }} ResultClaims
 */

/**
 * Options of signResult.
 * @typedef {object} SignResultOptions
 * @property {number} [now] Current time in epoch milliseconds; default Date.now().
 * @property {number} [ttlSeconds] Lifetime, 1-600 seconds; default 300.
 */

/**
 * Options of verifyResult; `audience` is required.
 * @typedef {object} VerifyResultOptions
 * @property {string} audience Your own origin, exactly as the return URL's
 *   `new URL(returnUrl).origin`, e.g. "https://app.example.com" (no path, no trailing slash).
 * @property {string} [issuer] The worker's public origin, e.g. "https://connect.example.com"; checked when given.
 * @property {number} [now] Current time in epoch milliseconds; default Date.now().
 * @property {number} [clockToleranceSeconds] Leeway for `exp` and `iat`; default 30.
 */

const STATUSES = ["success", "fail"];
const VIAS = ["exchange", "redirect"];
/** Claims signResult sets itself. */
const RESERVED = ["iat", "exp", "nbf"];
/** String claims a verified result may carry, when present. */
const STRING_CLAIMS = ["sub", "error", "zone", "sid", "ref"];
/** Longest token read; a result is a few hundred characters. */
const MAX_TOKEN_LENGTH = 8192;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/** Default lifetime of a result, in seconds. */
export const RESULT_TTL_SECONDS = 300;

/** Longest lifetime (`exp - iat`) signed or accepted, in seconds. */
export const MAX_RESULT_TTL_SECONDS = 600;

/** Shortest accepted key: 32 characters, e.g. `openssl rand -base64 32`. */
export const MIN_KEY_LENGTH = 32;

/** Default leeway, in seconds, for `exp` and `iat` between the worker's clock and the verifier's. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/** Every `code` a ResultVerificationError can carry; the list only grows. */
export const RESULT_ERROR_CODES = /** @type {const} */ ([
  "malformed",
  "algorithm",
  "signature",
  "audience",
  "issuer",
  "expired",
  "not_yet_valid",
  "claims",
]);

/** Why a result was refused; `code` is stable, the message is for people. */
export class ResultVerificationError extends Error {
  /**
   * @param {ResultErrorCode} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "ResultVerificationError";
    /** @readonly @type {ResultErrorCode} */
    this.code = code;
  }
}

// Pure: a bundle that only signs (the worker) leaves the decoder out.
const decoder = /* @__PURE__ */ new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * @param {unknown} value
 * @param {string} name
 * @returns {asserts value is string}
 */
function assertOrigin(value, name) {
  let origin;
  try {
    origin = new URL(/** @type {string} */ (value)).origin;
  } catch {}
  if (typeof value !== "string" || origin !== value) {
    throw new TypeError(`${name} must be an origin such as https://app.example.com (no path, no trailing slash).`);
  }
}

/**
 * A JSON object from a base64url part, or undefined if it is not one.
 * @param {string} part
 * @returns {Record<string, unknown> | undefined}
 */
function decodeObject(part) {
  if (!BASE64URL.test(part)) return undefined;
  try {
    const binary = atob(part.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const value = JSON.parse(decoder.decode(bytes));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key's id, sent as the header's `kid`: the first 8 bytes of the key's
 * SHA-256, base64url (11 characters). It tells keys apart without revealing
 * them: finding a key from it is no easier than from the token's signature,
 * which every result already carries.
 *
 * @param {string} key
 * @returns {Promise<string>}
 */
export async function resultKeyId(key) {
  assertKey(key, MIN_KEY_LENGTH, "result signing key");
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(key));
  return base64url(new Uint8Array(digest).slice(0, 8));
}

/**
 * Signs a result: a compact JWS with header {"alg":"HS256","typ":"JWT","kid":…}
 * (`kid` from `resultKeyId`), the given claims, and `iat`, `exp` (`iat` + ttl)
 * and `jti` (a random UUID unless given).
 *
 * @param {ResultInput} claims
 * @param {string} key RESULT_SIGNING_KEY.
 * @param {SignResultOptions} [options]
 * @returns {Promise<string>}
 */
export async function signResult(claims, key, options = {}) {
  assertKey(key, MIN_KEY_LENGTH, "result signing key");
  if (claims === null || typeof claims !== "object") throw new TypeError("signResult: claims must be an object.");
  assertOrigin(claims.iss, "signResult: iss");
  assertOrigin(claims.aud, "signResult: aud");
  if (!STATUSES.includes(/** @type {string} */ (claims.status))) {
    throw new TypeError('signResult: status must be "success" or "fail".');
  }
  if ((claims.status === "fail") !== (typeof claims.error === "string" && claims.error !== "")) {
    throw new TypeError('signResult: error is required when status is "fail", and only then.');
  }
  if (claims.via !== undefined && !VIAS.includes(claims.via)) {
    throw new TypeError('signResult: via must be "exchange" or "redirect" when given.');
  }
  const ttl = options.ttlSeconds ?? RESULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_RESULT_TTL_SECONDS) {
    throw new TypeError(`signResult: ttlSeconds must be a whole number from 1 to ${MAX_RESULT_TTL_SECONDS}.`);
  }
  const now = options.now ?? Date.now();
  if (!Number.isFinite(now) || now < 0) throw new TypeError("signResult: now must be epoch milliseconds.");

  /** @type {Record<string, string | number>} */
  const payload = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) continue;
    if (RESERVED.includes(name)) throw new TypeError(`signResult: ${name} is set by signResult, not by the caller.`);
    if (typeof value !== "string") throw new TypeError(`signResult: claim ${name} must be a string.`);
    payload[name] = value;
  }
  const iat = Math.floor(now / 1000);
  payload.iat = iat;
  payload.exp = iat + ttl;
  payload.jti = claims.jti ?? crypto.randomUUID();

  const header = JSON.stringify({ alg: "HS256", typ: "JWT", kid: await resultKeyId(key) });
  const input = `${base64url(encoder.encode(header))}.${base64url(encoder.encode(JSON.stringify(payload)))}`;
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(key), encoder.encode(input));
  return `${input}.${base64url(new Uint8Array(mac))}`;
}

/**
 * Verifies a result and returns its claims: the header's `alg` exactly HS256
 * (`none` and every other algorithm refused), the HMAC (compared in constant
 * time by Web Crypto), then the claims: `aud` equal to `audience`, `iss` to
 * `issuer` when given, `exp` not passed and `iat` not in the future (each
 * within the clock tolerance), `exp - iat` at most 600 seconds, `status`
 * success or fail.
 *
 * During a key rotation pass both keys, `[newKey, oldKey]`: a token whose
 * `kid` matches one of them is checked under that key only; one without a
 * `kid` (signed before this version) or with a `kid` none matches is tried
 * under each.
 *
 * @param {unknown} token The `result` query parameter, as received.
 * @param {string | readonly string[]} key RESULT_SIGNING_KEY, the same secret the worker has, or several.
 * @param {VerifyResultOptions} options
 * @returns {Promise<ResultClaims>}
 * @throws {ResultVerificationError} when the token is refused (see its `code`).
 * @throws {TypeError} when the key or the options are unusable.
 */
export async function verifyResult(token, key, options) {
  const keys = typeof key === "string" ? [key] : Array.isArray(key) ? key : [];
  if (keys.length === 0) throw new TypeError("verifyResult: key must be a string or a non-empty array of strings.");
  for (const k of keys) assertKey(k, MIN_KEY_LENGTH, "result signing key");
  const {
    audience,
    issuer,
    now = Date.now(),
    clockToleranceSeconds = DEFAULT_CLOCK_TOLERANCE_SECONDS,
  } = /** @type {Partial<VerifyResultOptions>} */ (options ?? {});
  assertOrigin(audience, "verifyResult: audience");
  if (issuer !== undefined) assertOrigin(issuer, "verifyResult: issuer");
  if (!Number.isFinite(now)) throw new TypeError("verifyResult: now must be epoch milliseconds.");
  if (!Number.isFinite(clockToleranceSeconds) || clockToleranceSeconds < 0) {
    throw new TypeError("verifyResult: clockToleranceSeconds must be a number of seconds, 0 or more.");
  }

  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) refuse("malformed", "not a result token");
  const parts = token.split(".");
  const header = decodeObject(parts[0] ?? "");
  if (!header) refuse("malformed", "the header is not a base64url JSON object");
  // The algorithm is ours to fix: a token naming any other is refused before
  // its signature is looked at, so `none` never reaches the key.
  if (header.alg !== "HS256") refuse("algorithm", "the algorithm is not HS256");
  if (header.typ !== undefined && header.typ !== "JWT") refuse("malformed", "typ is not JWT");
  if (header.crit !== undefined) refuse("malformed", "critical header extensions are not supported");
  if (header.kid !== undefined && typeof header.kid !== "string") refuse("malformed", "kid is not a string");
  const [, body = "", signature = ""] = parts;
  if (parts.length !== 3 || body === "" || !BASE64URL.test(body)) refuse("malformed", "not three base64url parts");

  // 43 characters carry 2 spare bits: only the canonical spelling is the
  // signature, so a token cannot be re-spelled into a second valid one.
  if (!SIGNATURE.test(signature)) refuse("signature", "the signature does not match");
  const mac = Uint8Array.from(atob(signature.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  const signed = encoder.encode(`${parts[0]}.${body}`);
  const ids = await Promise.all(keys.map(resultKeyId));
  const named = keys.filter((_, i) => ids[i] === header.kid);
  let valid = false;
  for (const k of named.length > 0 ? named : keys) {
    valid ||= await crypto.subtle.verify("HMAC", await hmacKey(k), mac, signed);
  }
  if (base64url(mac) !== signature || !valid) refuse("signature", "the signature does not match");

  const claims = decodeObject(body);
  if (!claims) refuse("malformed", "the payload is not a base64url JSON object");
  const { iss, aud, status, iat, exp, nbf, jti, via } = claims;
  if (typeof iss !== "string" || typeof aud !== "string" || typeof jti !== "string" || jti === "") {
    refuse("claims", "iss, aud and jti must be strings");
  }
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp) || (nbf !== undefined && typeof nbf !== "number")) {
    refuse("claims", "iat and exp must be whole numbers of seconds");
  }
  for (const name of STRING_CLAIMS) {
    if (claims[name] !== undefined && typeof claims[name] !== "string") refuse("claims", `${name} must be a string`);
  }
  if (!STATUSES.includes(/** @type {string} */ (status))) refuse("claims", "status must be success or fail");
  if ((status === "fail") !== (typeof claims.error === "string")) refuse("claims", "error goes with status fail");
  if (via !== undefined && !VIAS.includes(/** @type {string} */ (via))) refuse("claims", "via is not known");

  if (aud !== audience) refuse("audience", "the result was issued for another audience");
  if (issuer !== undefined && iss !== issuer) refuse("issuer", "the result was issued by another issuer");
  const nowSeconds = Math.floor(now / 1000);
  const t = /** @type {number} */ (exp);
  const issued = /** @type {number} */ (iat);
  if (t <= nowSeconds - clockToleranceSeconds) refuse("expired", "the result has expired");
  if (
    issued > nowSeconds + clockToleranceSeconds ||
    (typeof nbf === "number" && nbf > nowSeconds + clockToleranceSeconds)
  ) {
    refuse("not_yet_valid", "the result was issued in the future");
  }
  if (t <= issued || t - issued > MAX_RESULT_TTL_SECONDS) refuse("claims", "the result lives longer than 600 seconds");
  return /** @type {ResultClaims} */ (claims);
}

/**
 * @param {ResultErrorCode} code
 * @param {string} why
 * @returns {never}
 */
function refuse(code, why) {
  throw new ResultVerificationError(code, `Result refused (${code}): ${why}.`);
}
