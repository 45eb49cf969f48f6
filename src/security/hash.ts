import { encoder } from "./hmac-key.js";

/** Lower-case hex SHA-256: how secrets (state, code, tokens) become KV keys. */
export async function sha256Hex(input: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(input)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
