import { encoder } from "./hmac-key.js";

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Equal-length byte arrays compared without an early exit: the time does not depend on where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let difference = 0;
  for (let i = 0; i < a.byteLength; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/**
 * Compares a presented secret with the expected one in constant time.
 * Both sides are hashed first, so the comparison runs over 32 bytes whatever
 * the lengths, and neither the length nor a common prefix leaks through timing.
 */
export async function equalSecrets(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return equalBytes(a, b);
}
