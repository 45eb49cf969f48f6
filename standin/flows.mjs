// The connection flows of Peaka's OAuth2 guide as the demo and the browser
// tests run them. One list, so the demo's buttons and the tests cannot drift.

/** The OAuth redirect URI path the worker serves (CALLBACK_PATH's default). */
export const CALLBACK_PATH = "/oauth2/mycallback";
/** The partner callback path the worker serves (COMPLETE_PATH's default). */
export const COMPLETE_PATH = "/oauth2/complete";

/**
 * @typedef {object} Flow
 * @property {string} id
 * @property {string} option        The guide's option number.
 * @property {string} title
 * @property {"relay" | "exchange"} worker  Which edge instance (CALLBACK_MODE) serves it.
 * @property {string} [clientId]    The partner's own OAuth app; absent for Peaka's app.
 * @property {"query" | "form_post"} responseMode
 * @property {"peaka" | "edge"} callback  Whose callback the provider sends the browser to.
 */

/** @type {readonly Flow[]} */
export const FLOWS = [
  {
    id: "2a",
    option: "2.a",
    title: "Peaka's OAuth app",
    worker: "relay",
    responseMode: "query",
    callback: "peaka",
  },
  {
    id: "2b1",
    option: "2.b.1",
    title: "Own OAuth app, Peaka's callback",
    worker: "relay",
    clientId: "demo-own-app",
    responseMode: "query",
    callback: "peaka",
  },
  {
    id: "2b2-get",
    option: "2.b.2",
    title: "Own redirect URL relayed to Peaka (redirect)",
    worker: "relay",
    clientId: "demo-relay-app",
    responseMode: "query",
    callback: "edge",
  },
  {
    id: "2b2-post",
    option: "2.b.2",
    title: "Own redirect URL relayed to Peaka (form_post)",
    worker: "relay",
    clientId: "demo-relay-formpost-app",
    responseMode: "form_post",
    callback: "edge",
  },
  {
    id: "2b3-get",
    option: "2.b.3",
    title: "Own callback, exchange at the edge (redirect)",
    worker: "exchange",
    clientId: "demo-exchange-app",
    responseMode: "query",
    callback: "edge",
  },
  {
    id: "2b3-post",
    option: "2.b.3",
    title: "Own callback, exchange at the edge (form_post)",
    worker: "exchange",
    clientId: "demo-exchange-formpost-app",
    responseMode: "form_post",
    callback: "edge",
  },
];

/**
 * Option 1: the partner already holds a token (Stripe here). One server call,
 * no consent screen and no browser redirect through the worker.
 * @type {Flow & { token: true }}
 */
export const TOKEN_FLOW = {
  id: "1",
  option: "1",
  title: "Token connection (Stripe), no consent screen",
  worker: "relay",
  responseMode: "query",
  callback: "peaka",
  token: true,
};

/** The demo's Stripe token: a value the tests look for in logs. */
export const DEMO_STRIPE_TOKEN = "demo-stripe-token-4f9a2c";

export const ZONES = ["us", "eu"];

/** @param {string} id */
export function flowById(id) {
  return [...FLOWS, TOKEN_FLOW].find((flow) => flow.id === id);
}

/** The demo's client secret for an OAuth app: a value the tests look for in logs. */
export function clientSecretFor(clientId) {
  return `demo-secret-${clientId}-7c1e`;
}

/**
 * The provider's registry of OAuth apps: where each sends users back and
 * how. 2.b.2 apps are registered with the relay worker's callback; 2.b.3
 * apps get their redirect URI from the connection (`credential.redirectUrl`).
 * @param {{ relay: string }} workers  Worker origins by mode.
 */
export function providerApps(workers) {
  const relayCallback = new URL(CALLBACK_PATH, workers.relay).href;
  return {
    "demo-relay-app": { redirectUri: relayCallback, responseMode: "query" },
    "demo-relay-formpost-app": { redirectUri: relayCallback, responseMode: "form_post" },
    "demo-exchange-app": { responseMode: "query" },
    "demo-exchange-formpost-app": { responseMode: "form_post" },
  };
}
