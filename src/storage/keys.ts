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
  begin: "begin:",
  session: "sess:",
  sealed: "seal:",
} as const;

/** sessionId has already been checked against SESSION_ID: not a secret, so kept as is. */
export function sessionKey(sessionId: string): string {
  return `${KEY_PREFIX.session}${sessionId}`;
}

/** A session's sealed platform data (e.g. a pull the platform finishes later), by sessionId. */
export function sealedKey(sessionId: string): string {
  return `${KEY_PREFIX.sealed}${sessionId}`;
}

/** connectionId has already been checked against CONNECTION_ID. */
export function connectionKey(connectionId: string): string {
  return `${KEY_PREFIX.connection}${connectionId}`;
}

export async function stateKey(state: string): Promise<string> {
  return stateKeyFromHash(await sha256Hex(state));
}

/** The state record's key when only the state's hash is at hand (a begin record). */
export function stateKeyFromHash(hash: string): string {
  return `${KEY_PREFIX.state}${hash}`;
}

export async function beginKey(token: string): Promise<string> {
  return `${KEY_PREFIX.begin}${await sha256Hex(token)}`;
}

export async function outcomeKey(code: string): Promise<string> {
  return `${KEY_PREFIX.outcome}${await sha256Hex(code)}`;
}

/** A start link's nonce is not secret, but hashing bounds the key's length and alphabet. */
export async function nonceKey(nonce: string): Promise<string> {
  return `${KEY_PREFIX.nonce}${await sha256Hex(nonce)}`;
}
