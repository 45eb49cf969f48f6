// What one stand-in zone remembers: connections (with the OAuth app's client
// secret, in memory only), the states of its consent URLs, and a log of calls
// without any secret in it. Codes belong to the platform (provider.mjs).

import { randomBytes, randomUUID } from "node:crypto";

/**
 * How Peaka's exchange endpoint treats a connection, for fault demos and
 * tests; chosen on the consent screen's stand-in panel.
 */
export const FAULT_CHOICES = [
  { value: "none", label: "answers normally" },
  { value: "slow", label: "answers too slowly (timeout)" },
  { value: "500", label: "answers 500" },
  { value: "garbage", label: "answers with garbage" },
];
export const FAULTS = FAULT_CHOICES.map((choice) => choice.value);

const MAX_CALLS = 1000;

/**
 * @typedef {object} Connection
 * @property {string} id
 * @property {string} name
 * @property {string} type
 * @property {"us" | "eu"} zone
 * @property {string} [connectionCallback]
 * @property {string} [clientId]
 * @property {string} [clientSecret]   Used at the platform's token endpoint; never logged or shown.
 * @property {"client_secret_basic" | "client_secret_post"} [tokenAuth]
 * @property {string} [state]
 * @property {string} [redirectUri]
 * @property {"query" | "form_post"} [responseMode]
 * @property {string} [fault]          One of FAULTS; how the exchange endpoint answers.
 * @property {"pending" | "connected" | "failed"} status
 */

export class StandinState {
  /** @param {"us" | "eu"} zone */
  constructor(zone) {
    this.zone = zone;
    /** @type {Map<string, Connection>} */
    this.connections = new Map();
    /** @type {Map<string, string>} state -> connection id */
    this.byState = new Map();
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
   * A state that always holds a space, `+`, `/` and `=`: any proxy on the way
   * that decodes and re-encodes the query instead of copying it breaks the
   * match. 17 random bytes in base64 always end in one `=`.
   */
  newState(connectionId) {
    const state = `${this.zone} +/${randomBytes(17).toString("base64")}`;
    this.byState.set(state, connectionId);
    return state;
  }

  /** @param {string | null} state @returns {Connection | undefined} */
  connectionForState(state) {
    const id = state === null ? undefined : this.byState.get(state);
    return id === undefined ? undefined : this.connections.get(id);
  }

  /** Sets the exchange fault of the connection a consent URL's state belongs to, if this zone made it. */
  chooseFault(state, fault) {
    const connection = this.connectionForState(state);
    if (connection && FAULTS.includes(fault)) connection.fault = fault;
  }

  /** @param {{ call: string, status: number, connectionId?: string, detail?: string }} entry */
  record(entry) {
    this.calls.push({ at: new Date().toISOString(), zone: this.zone, ...entry });
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
  }
}
