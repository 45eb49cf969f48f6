// Generated from result.js by `npm run types`: change the JSDoc there, not this file.
/**
 * The key's id, sent as the header's `kid`: the first 8 bytes of the key's
 * SHA-256, base64url (11 characters). It tells keys apart without revealing
 * them: finding a key from it is no easier than from the token's signature,
 * which every result already carries.
 *
 * @param {string} key
 * @returns {Promise<string>}
 */
export function resultKeyId(key: string): Promise<string>;
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
export function signResult(claims: ResultInput, key: string, options?: SignResultOptions): Promise<string>;
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
export function verifyResult(
  token: unknown,
  key: string | readonly string[],
  options: VerifyResultOptions,
): Promise<ResultClaims>;
/** Default lifetime of a result, in seconds. */
export const RESULT_TTL_SECONDS: 300;
/** Longest lifetime (`exp - iat`) signed or accepted, in seconds. */
export const MAX_RESULT_TTL_SECONDS: 600;
/** Shortest accepted key: 32 characters, e.g. `openssl rand -base64 32`. */
export const MIN_KEY_LENGTH: 32;
/** Default leeway, in seconds, for `exp` and `iat` between the worker's clock and the verifier's. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS: 30;
/** Every `code` a ResultVerificationError can carry; the list only grows. */
export const RESULT_ERROR_CODES: readonly [
  "malformed",
  "algorithm",
  "signature",
  "audience",
  "issuer",
  "expired",
  "not_yet_valid",
  "claims",
];
/** Why a result was refused; `code` is stable, the message is for people. */
export class ResultVerificationError extends Error {
  /**
   * @param {ResultErrorCode} code
   * @param {string} message
   */
  constructor(code: ResultErrorCode, message: string);
  /** @readonly @type {ResultErrorCode} */
  readonly code: ResultErrorCode;
}
/**
 * Why verifyResult refused a token (ResultVerificationError's `code`):
 * `malformed`: not three base64url parts, or a header or payload that is not a
 * JSON object, or a header that is not plain (`typ` other than JWT, `crit`).
 * `algorithm`: `alg` is not exactly HS256 (`none`, HS384, RS256, …).
 * `signature`: the HMAC does not match: another key, or a changed token.
 * `audience`, `issuer`: `aud` or `iss` is not the expected origin.
 * `expired`: `exp` has passed. `not_yet_valid`: `iat` (or `nbf`) is in the future.
 * `claims`: a claim has the wrong type or value, or `exp - iat` exceeds 600.
 */
export type ResultErrorCode = (typeof RESULT_ERROR_CODES)[number];
/**
 * What the worker signs. `iat`, `exp` and (unless given) `jti` are added by
 * `signResult`. Further claims, e.g. `sid` and `ref`, must be strings; an
 * undefined one is left out.
 */
export type ResultInput = {
  iss: string;
  aud: string;
  sub?: string;
  status: "success" | "fail";
  error?: string;
  zone?: string;
  via?: "exchange" | "redirect";
  sid?: string;
  ref?: string;
  jti?: string;
  [claim: string]: string | undefined;
};
/**
 * The claims of a verified result. Claims this version does not know are
 * passed through as they were signed.
 */
export type ResultClaims = {
  iss: string;
  aud: string;
  sub?: string;
  status: "success" | "fail";
  error?: string;
  zone?: string;
  via?: "exchange" | "redirect";
  sid?: string;
  ref?: string;
  iat: number;
  exp: number;
  jti: string;
  [claim: string]: unknown;
};
/**
 * Options of signResult.
 */
export type SignResultOptions = {
  /**
   * Current time in epoch milliseconds; default Date.now().
   */
  now?: number | undefined;
  /**
   * Lifetime, 1-600 seconds; default 300.
   */
  ttlSeconds?: number | undefined;
};
/**
 * Options of verifyResult; `audience` is required.
 */
export type VerifyResultOptions = {
  /**
   * Your own origin, exactly as the return URL's
   * `new URL(returnUrl).origin`, e.g. "https://app.example.com" (no path, no trailing slash).
   */
  audience: string;
  /**
   * The worker's public origin, e.g. "https://connect.example.com"; checked when given.
   */
  issuer?: string | undefined;
  /**
   * Current time in epoch milliseconds; default Date.now().
   */
  now?: number | undefined;
  /**
   * Leeway for `exp` and `iat`; default 30.
   */
  clockToleranceSeconds?: number | undefined;
};
