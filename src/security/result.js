// @ts-check
// Placeholder until the signed-result module lands: signs HS256 compact JWS.
const encoder = new TextEncoder();
/** @param {Uint8Array} bytes */
function b64u(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
/**
 * @param {Record<string, unknown>} claims
 * @param {string} key
 * @param {{ now?: number }} [options]
 * @returns {Promise<string>}
 */
export async function signResult(claims, key, options = {}) {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const header = b64u(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = b64u(encoder.encode(JSON.stringify({ ...claims, iat, exp: iat + 300, jti: crypto.randomUUID() })));
  const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(`${header}.${payload}`)));
  return `${header}.${payload}.${b64u(sig)}`;
}
