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
 * @property {"rivery"} [platform]  Rivery instead of Peaka (RIVERY_FLOW).
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

/**
 * Rivery: the worker creates the pull, the user authorises in a popup from
 * the worker's waiting page, and the worker creates the connection once the
 * credentials are there. Always through the server API (both workers serve it).
 * @type {Flow & { platform: "rivery" }}
 */
export const RIVERY_FLOW = {
  id: "rivery",
  option: "Rivery",
  title: "Rivery OAuth2 connection (Google Sheets), waiting page and popup",
  worker: "relay",
  responseMode: "query",
  callback: "edge",
  platform: "rivery",
};

/** The demo's Stripe token: a value the tests look for in logs. */
export const DEMO_STRIPE_TOKEN = "demo-stripe-token-4f9a2c";

/** The demo's client secret for an OAuth app: a value the tests look for in logs. */
export function clientSecretFor(clientId) {
  return `demo-secret-${clientId}-7c1e`;
}

/** Peaka's own OAuth app in a zone (2.a): each zone is its own client of the platform. */
export function peakaClientId(zone) {
  return `peaka-${zone}-app`;
}

/**
 * 2.b.3 with an OAuth app whose registration at the platform names another
 * redirect URI than the worker's callback the consent URL carries: the
 * platform must refuse, and the user must see why.
 * @type {Flow}
 */
export const MISREGISTERED_FLOW = {
  id: "2b3-misregistered",
  option: "2.b.3",
  title: "OAuth app registered with another redirect URI",
  worker: "exchange",
  clientId: "demo-misregistered-app",
  responseMode: "query",
  callback: "edge",
};

/**
 * Where the misregistered app points: the production host, the usual mistake
 * when a local setup borrows the production OAuth app. Never contacted.
 */
export const MISREGISTERED_REDIRECT_URI = "https://connect.example.com/oauth2/mycallback";

export const ZONES = ["us", "eu"];

/** @param {string} id */
export function flowById(id) {
  return [...FLOWS, TOKEN_FLOW, MISREGISTERED_FLOW, RIVERY_FLOW].find((flow) => flow.id === id);
}

/**
 * @typedef {object} OAuthApp
 * @property {string} clientId
 * @property {string} name
 * @property {string[]} redirectUris  As registered at the platform, matched exactly.
 * @property {"query" | "form_post"} responseMode
 * @property {"client_secret_basic" | "client_secret_post"} tokenAuth  How Peaka authenticates at the token endpoint.
 * @property {boolean} [relayed]      2.b.2: Peaka's consent URL names the app's (the worker's) redirect URI.
 */

/**
 * Every OAuth app of the demo, as registered at the platform (the provider's
 * clients) and as far as Peaka knows it. Peaka's callback for 2.a and 2.b.1,
 * the relay worker's callback for 2.b.2, the exchange worker's for 2.b.3.
 * Both client authentication methods of RFC 6749 are in use.
 * @param {{ peakaCallbacks: Record<"us" | "eu", string>, workers: Record<"relay" | "exchange", string> }} urls
 * @returns {OAuthApp[]}
 */
export function oauthApps({ peakaCallbacks, workers }) {
  const relayCallback = new URL(CALLBACK_PATH, workers.relay).href;
  const exchangeCallback = new URL(CALLBACK_PATH, workers.exchange).href;
  return [
    ...ZONES.map((zone) => ({
      clientId: peakaClientId(zone),
      name: `Peaka (${zone.toUpperCase()})`,
      redirectUris: [peakaCallbacks[zone]],
      responseMode: /** @type {const} */ ("query"),
      tokenAuth: /** @type {const} */ ("client_secret_basic"),
    })),
    {
      clientId: "demo-own-app",
      name: "Acme Analytics",
      redirectUris: ZONES.map((zone) => peakaCallbacks[zone]),
      responseMode: "query",
      tokenAuth: "client_secret_post",
    },
    {
      clientId: "demo-relay-app",
      name: "Acme Analytics (relay)",
      redirectUris: [relayCallback],
      responseMode: "query",
      tokenAuth: "client_secret_basic",
      relayed: true,
    },
    {
      clientId: "demo-relay-formpost-app",
      name: "Acme Analytics (relay, form_post)",
      redirectUris: [relayCallback],
      responseMode: "form_post",
      tokenAuth: "client_secret_post",
      relayed: true,
    },
    {
      clientId: "demo-exchange-app",
      name: "Acme Analytics (own callback)",
      redirectUris: [exchangeCallback],
      responseMode: "query",
      tokenAuth: "client_secret_basic",
    },
    {
      clientId: "demo-exchange-formpost-app",
      name: "Acme Analytics (own callback, form_post)",
      redirectUris: [exchangeCallback],
      responseMode: "form_post",
      tokenAuth: "client_secret_post",
    },
    {
      clientId: MISREGISTERED_FLOW.clientId ?? "",
      name: "Acme Analytics (misregistered)",
      redirectUris: [MISREGISTERED_REDIRECT_URI],
      responseMode: "query",
      tokenAuth: "client_secret_basic",
    },
  ];
}

/**
 * The provider's client registrations for the apps.
 * @param {OAuthApp[]} apps @returns {import("./provider.mjs").PlatformClient[]}
 */
export function platformClients(apps) {
  return apps.map(({ relayed: _relayed, ...app }) => ({ ...app, clientSecret: clientSecretFor(app.clientId) }));
}

/**
 * What Peaka knows of each app: how to answer and authenticate, and for 2.b.2
 * the redirect URI its consent URL names. 2.b.3 apps get theirs from the
 * connection (`credential.redirectUrl`), the others use Peaka's callback.
 * @param {OAuthApp[]} apps
 * @returns {Record<string, { redirectUri?: string, responseMode: "query" | "form_post", tokenAuth: "client_secret_basic" | "client_secret_post" }>}
 */
export function peakaApps(apps) {
  return Object.fromEntries(
    apps.map((app) => [
      app.clientId,
      {
        responseMode: app.responseMode,
        tokenAuth: app.tokenAuth,
        ...(app.relayed ? { redirectUri: app.redirectUris[0] } : {}),
      },
    ]),
  );
}
