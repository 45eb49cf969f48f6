// @ts-check
/**
 * What the two plain-ESM signers (start-link.js, result.js) share: HMAC-SHA256
 * keys imported once per key string, a key-length guard, and base64url
 * without padding (security/seal.ts uses the same, through hmac-key.d.ts). Plain JavaScript for the same reason as they are: a
 * partner's Node backend imports them without a build step.
 */

/** One UTF-8 encoder for the worker's security modules (and the webhooks' signer): one copy in the bundle. */
export const encoder = new TextEncoder();

// Not a @typedef: every typedef in a module is exported, and this one would
// put a runtime-specific key type into the signers' generated .d.ts files.
/** @type {Map<string, ReturnType<typeof crypto.subtle.importKey>>} */
const keys = new Map();

/**
 * Imports the HMAC key once per key string (a worker isolate sees one key).
 * @param {string} key
 * @returns {ReturnType<typeof crypto.subtle.importKey>}
 */
export function hmacKey(key) {
  let imported = keys.get(key);
  if (!imported) {
    imported = crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    // Bounded: a process that signs with many keys (tests) must not grow without end.
    if (keys.size >= 16) keys.clear();
    keys.set(key, imported);
  }
  return imported;
}

/**
 * Throws a TypeError naming the key (never quoting it) when it is not a string of `minLength` or more.
 * @param {unknown} key
 * @param {number} minLength
 * @param {string} what e.g. "link signing key"
 */
export function assertKey(key, minLength, what) {
  if (typeof key !== "string" || key.length < minLength) {
    throw new TypeError(`The ${what} must be a string of at least ${minLength} characters.`);
  }
}

/**
 * base64url, with or without padding, to bytes; throws on characters outside
 * the alphabet (after the `-` `_` swap) or an impossible length.
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function fromBase64url(text) {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** @param {Uint8Array} bytes */
export function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
