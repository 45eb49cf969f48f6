import { sha256Hex } from "../security/hash";

/**
 * The KV key schema (docs/kv-schema.md mirrors this file). Keys built from
 * secrets carry only their SHA-256, so a KV listing reveals no code or state.
 */
export const KEY_PREFIX = {
  connection: "conn:",
  state: "state:",
  outcome: "code:",
  nonce: "nonce:",
} as const;

/** connectionId has already been checked against CONNECTION_ID. */
export function connectionKey(connectionId: string): string {
  return `${KEY_PREFIX.connection}${connectionId}`;
}

export async function stateKey(state: string): Promise<string> {
  return `${KEY_PREFIX.state}${await sha256Hex(state)}`;
}

export async function outcomeKey(code: string): Promise<string> {
  return `${KEY_PREFIX.outcome}${await sha256Hex(code)}`;
}

/** A start link's nonce is not secret, but hashing bounds the key's length and alphabet. */
export async function nonceKey(nonce: string): Promise<string> {
  return `${KEY_PREFIX.nonce}${await sha256Hex(nonce)}`;
}
