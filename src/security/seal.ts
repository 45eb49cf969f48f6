/**
 * Encrypts a value under a key derived from a random token that is kept
 * elsewhere (in a single-use URL), so what is stored is unreadable without
 * that URL: KV holds no `state` or other secret in the clear. HKDF-SHA256
 * derives an AES-256-GCM key; the output is base64url(iv ‖ ciphertext).
 */
import { base64url, encoder, fromBase64url } from "./hmac-key.js";

const INFO = encoder.encode("peaka-connect-edge/seal/v1");
const IV_BYTES = 12;

async function keyFor(token: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(token), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

// base64url is the plain-ESM signers' own (one copy in the bundle).
export { base64url as toBase64url } from "./hmac-key.js";

export async function seal(plaintext: string, token: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await keyFor(token), encoder.encode(plaintext));
  const out = new Uint8Array(IV_BYTES + data.byteLength);
  out.set(iv);
  out.set(new Uint8Array(data), IV_BYTES);
  return base64url(out);
}

/** The plaintext, or undefined when the token is not the one it was sealed with or the data is damaged. */
export async function unseal(sealed: string, token: string): Promise<string | undefined> {
  const bytes = /^[A-Za-z0-9_-]*$/.test(sealed) ? fromBase64url(sealed) : undefined;
  if (!bytes || bytes.byteLength <= IV_BYTES) return undefined;
  try {
    const data = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES) },
      await keyFor(token),
      bytes.slice(IV_BYTES),
    );
    return new TextDecoder().decode(data);
  } catch {
    return undefined;
  }
}
