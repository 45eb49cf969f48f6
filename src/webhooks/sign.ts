/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256
 * over `${id}.${timestamp}.${body}` under the secret's base64-decoded key,
 * sent as `v1,<base64>`. WebCrypto rather than the `standardwebhooks`
 * package keeps the bundle small; test/webhooks/sign.test.ts holds the two to
 * the same bytes.
 */

import { encoder, fromBase64url } from "../security/hmac-key.js";

async function hmac(secret: string, text: string): Promise<string> {
  // The shared decoder takes standard base64 as it is (it only maps - and _).
  const key = await crypto.subtle.importKey("raw", fromBase64url(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)))));
}

/**
 * The `webhook-signature` header: one `v1,` entry per secret, space-separated.
 * During a rotation (WEBHOOK_SECRET_PREVIOUS set) a receiver holding either
 * secret verifies, so partners move to the new one at their own pace.
 * @param secrets base64 keys, `whsec_` stripped (config/schemas.ts)
 * @param timestamp epoch seconds, as in `webhook-timestamp`
 */
export async function signWebhook(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const signed = `${id}.${timestamp}.${body}`;
  const entries = await Promise.all(secrets.map(async (secret) => `v1,${await hmac(secret, signed)}`));
  return entries.join(" ");
}
