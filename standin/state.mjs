// What one stand-in zone remembers: connections, the provider's pending
// states and issued codes, and a log of calls without any secret in it.

import { randomBytes, randomUUID } from "node:crypto";

/** Exchange faults a code can carry, chosen on the consent page for fault demos. */
export const FAULTS = ["none", "slow", "500", "garbage"];

const MAX_CALLS = 1000;

/**
 * @typedef {object} Connection
 * @property {string} id
 * @property {string} name
 * @property {string} type
 * @property {"us" | "eu"} zone
 * @property {string} [connectionCallback]
 * @property {string} [clientId]
 * @property {string} [state]
 * @property {string} [redirectUri]
 * @property {"query" | "form_post"} [responseMode]
 * @property {"pending" | "connected" | "failed"} status
 */

/**
 * @typedef {object} IssuedCode
 * @property {string} connectionId
 * @property {string} fault
 * @property {boolean} used
 */

export class StandinState {
  /** @param {"us" | "eu"} zone */
  constructor(zone) {
    this.zone = zone;
    /** @type {Map<string, Connection>} */
    this.connections = new Map();
    /** @type {Map<string, string>} state -> connection id */
    this.byState = new Map();
    /** @type {Map<string, IssuedCode>} */
    this.codes = new Map();
    /** @type {Array<{ at: string, zone: string, call: string, status: number, connectionId?: string, detail?: string }>} */
    this.calls = [];
  }

  /** @param {Omit<Connection, "id" | "zone" | "status">} fields @returns {Connection} */
  addConnection(fields) {
    // The zone prefix makes routing visible: a US flow must end on a `us-` id.
    const connection = { ...fields, id: `${this.zone}-${randomUUID()}`, zone: this.zone, status: "pending" };
    this.connections.set(connection.id, connection);
    return connection;
  }

  /**
   * A state with `+`, `/`, `=` and a space in it: any proxy on the way that
   * decodes and re-encodes the query instead of copying it breaks the match.
   */
  newState(connectionId) {
    const state = `${this.zone} ${randomBytes(17).toString("base64")}`;
    this.byState.set(state, connectionId);
    return state;
  }

  /** @param {string | null} state @returns {Connection | undefined} */
  connectionForState(state) {
    const id = state === null ? undefined : this.byState.get(state);
    return id === undefined ? undefined : this.connections.get(id);
  }

  /** @param {string} connectionId @param {string} fault */
  issueCode(connectionId, fault) {
    const code = `code_${this.zone}_${randomBytes(18).toString("base64url")}`;
    this.codes.set(code, { connectionId, fault, used: false });
    return code;
  }

  /**
   * The code's record when it was issued for this connection and not used
   * yet; marks it used, because an authorization code works once.
   * @param {string | null} code @param {Connection} connection
   */
  redeem(code, connection) {
    const issued = code === null ? undefined : this.codes.get(code);
    if (!issued || issued.connectionId !== connection.id || issued.used) return undefined;
    issued.used = true;
    return issued;
  }

  /** @param {string | null} code */
  peekCode(code) {
    return code === null ? undefined : this.codes.get(code);
  }

  /** @param {{ call: string, status: number, connectionId?: string, detail?: string }} entry */
  record(entry) {
    this.calls.push({ at: new Date().toISOString(), zone: this.zone, ...entry });
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
  }
}
