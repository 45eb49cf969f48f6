// The platform's authorization server (Google Analytics, HubSpot, … in the
// guide): panva's oidc-provider, a certified OAuth 2.0 / OpenID Connect
// server, so the flows meet real provider behaviour: exact redirect_uri
// matching, `iss` in every authorization response (RFC 9207), form_post, and
// codes bound to one client and spent once at the token endpoint.
// Development and tests only; the worker never imports it.
//
// What is ours: an in-memory adapter, keys generated at start-up, and the
// consent screen (one fixed demo user, no login, Approve / Deny) in place of
// oidc-provider's development interactions.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import Provider from "oidc-provider";
import { escapeHtml, layout } from "./html.mjs";
import { HttpError, handler, listen, requestParams, sendHtml } from "./http.mjs";

/** The one protected resource: the user's analytics data. Codes and tokens are for it. */
export const RESOURCE = "urn:demo-platform:analytics";
/** The scope Peaka asks for in the consent URL. */
export const SCOPE = "read";

/** The demo user every consent is given as; there is no login. */
export const DEMO_USER = { accountId: "demo-user", name: "Dana Demo", email: "dana@example.test" };

const BRAND = "Demo Data Platform";
const ACCENT = "#5b3fd1";

/**
 * @typedef {object} PlatformClient
 * @property {string} clientId
 * @property {string} clientSecret
 * @property {string} name                 Shown on the consent screen.
 * @property {string[]} redirectUris       Matched exactly, as the provider does.
 * @property {"query" | "form_post"} responseMode
 * @property {"client_secret_basic" | "client_secret_post"} tokenAuth
 */

/**
 * @typedef {object} ConsentFaults
 *   A panel on the consent screen that belongs to the Peaka stand-in, not to
 *   the platform: how Peaka's exchange endpoint will treat this connection.
 * @property {{ value: string, label: string }[]} choices
 * @property {(state: string, fault: string) => void} choose
 */

/**
 * @typedef {object} ProviderOptions
 * @property {number} port                 0 picks a free port.
 * @property {string} [issuer]             Default http://localhost:<port>.
 * @property {PlatformClient[]} clients
 * @property {ConsentFaults} [faults]
 * @property {boolean} [quiet]
 */

/**
 * oidc-provider's storage contract over one Map. The bundled memory adapter
 * is an LRU of 1000 entries, which would evict codes under the load test.
 */
function memoryAdapter() {
  /** @type {Map<string, { payload: Record<string, unknown>, expiresAt: number }>} */
  const store = new Map();
  /** @type {Map<string, Set<string>>} grant id -> keys of what was issued under it */
  const byGrant = new Map();
  /** @type {Map<string, string>} */
  const index = new Map();

  const live = (key) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry?.payload;
  };

  return class MemoryAdapter {
    /** @param {string} model */
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      if (typeof payload.grantId === "string") {
        const keys = byGrant.get(payload.grantId) ?? new Set();
        keys.add(key);
        byGrant.set(payload.grantId, keys);
      }
      if (typeof payload.uid === "string") index.set(`uid:${payload.uid}`, id);
      if (typeof payload.userCode === "string") index.set(`userCode:${payload.userCode}`, id);
    }

    async find(id) {
      return live(this.key(id));
    }

    async findByUid(uid) {
      const id = index.get(`uid:${uid}`);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = index.get(`userCode:${userCode}`);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id) {
      store.delete(this.key(id));
    }

    async revokeByGrantId(grantId) {
      for (const key of byGrant.get(grantId) ?? []) store.delete(key);
      byGrant.delete(grantId);
    }
  };
}

/** @param {PlatformClient} client */
function registration(client) {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    client_name: client.name,
    redirect_uris: client.redirectUris,
    response_types: ["code"],
    grant_types: ["authorization_code"],
    response_modes: [client.responseMode],
    token_endpoint_auth_method: client.tokenAuth,
  };
}

/** @param {{ title: string, body: string, script?: string }} page */
function platformPage({ title, body, script }) {
  return layout({ title, brand: BRAND, tag: "OAuth 2.0 server (oidc-provider)", accent: ACCENT, body, script });
}

const ERROR_HEADLINES = {
  invalid_redirect_uri: "This app's redirect URI is not registered",
  invalid_client: "This app is not registered here",
};

/**
 * The provider's own error page: shown instead of a redirect whenever the
 * redirect URI cannot be trusted, so the user learns what went wrong and
 * nothing is sent anywhere. Never shows `state`.
 * @param {{ error?: string, error_description?: string }} out
 * @param {{ clientId?: unknown, redirectUri?: unknown }} [request]  What the refused request named, for its developer.
 */
function errorPage(out, request = {}) {
  const error = out.error ?? "server_error";
  const headline = ERROR_HEADLINES[error] ?? "The request could not be processed";
  const hint =
    error === "invalid_redirect_uri"
      ? `<p>The authorization request asked to return to a redirect URI that the app's registration does not
  list, so the platform stops here instead of sending you there. The app's developer must register the exact
  redirect URI (scheme, host, port and path) or use one that is registered.</p>`
      : "";
  const body = `<div class="card" id="platform-error"><h1 class="fail">${escapeHtml(headline)}</h1>
  ${hint}<table><tr><th>error</th><td><code id="error">${escapeHtml(error)}</code></td></tr>
  <tr><th>description</th><td id="error-description">${escapeHtml(out.error_description ?? "")}</td></tr>
  ${typeof request.clientId === "string" ? `<tr><th>app</th><td><code>${escapeHtml(request.clientId)}</code></td></tr>` : ""}
  ${typeof request.redirectUri === "string" ? `<tr><th>redirect URI asked for</th><td><code id="requested-redirect-uri">${escapeHtml(request.redirectUri)}</code></td></tr>` : ""}
  </table>
  <p class="muted">You can close this page and go back to the application you came from.</p></div>`;
  return platformPage({ title: "Authorization error", body });
}

/**
 * The consent screen for one interaction.
 * @param {Awaited<ReturnType<Provider["interactionDetails"]>>} details
 * @param {{ name?: string, clientId: string }} client
 * @param {ConsentFaults | undefined} faults
 */
function consentPage(details, client, faults) {
  const params = details.params;
  const redirectUri = String(params.redirect_uri ?? "");
  const formPost = params.response_mode === "form_post";
  const faultPanel = faults
    ? `<fieldset><legend class="muted">Peaka stand-in, not the platform: Peaka's exchange endpoint then…</legend>${faults.choices
        .map(
          ({ value, label }, i) =>
            `<label><input type="radio" name="fault" value="${escapeHtml(value)}"${i === 0 ? " checked" : ""}> ${escapeHtml(label)}</label>`,
        )
        .join("")}</fieldset>`
    : "";
  const body = `<div class="card">
  <h1><span id="client-name">${escapeHtml(client.name ?? client.clientId)}</span> wants to read your analytics data</h1>
  <p>Signed in as <b>${escapeHtml(DEMO_USER.name)}</b> (${escapeHtml(DEMO_USER.email)}), the demo account.</p>
  <table>
  <tr><th>access</th><td><code>${escapeHtml(String(params.scope ?? ""))}</code> on <code>${escapeHtml(RESOURCE)}</code></td></tr>
  <tr><th>app</th><td><code id="client-id">${escapeHtml(client.clientId)}</code></td></tr>
  <tr><th>returns to</th><td><code id="redirect-uri">${escapeHtml(redirectUri)}</code>
  <span class="muted">by ${formPost ? "an auto-submitted form (response_mode=form_post)" : "a redirect"}</span></td></tr>
  </table>
  <form method="post" action="/interaction/${escapeHtml(details.uid)}">
    ${faultPanel}
    <button type="submit" name="decision" value="approve" id="approve">Approve</button>
    <button type="submit" name="decision" value="deny" id="deny" class="secondary">Deny</button>
  </form></div>`;
  return platformPage({ title: `Consent: ${client.name ?? client.clientId}`, body });
}

/**
 * Starts the platform on 127.0.0.1.
 * @param {ProviderOptions} options
 */
export async function startProvider(options) {
  let delegate = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = await listen((req, res) => delegate(req, res), options.port);
  const issuer = options.issuer ?? `http://localhost:${server.port}`;
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  /** @type {Map<string, number>} codes issued per client id */
  const issued = new Map();

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: options.clients.map(registration),
    // Generated per run: nothing signed by this dev server outlives it.
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), kid: "dev-only", alg: "ES256", use: "sig" }] },
    clientDefaults: { id_token_signed_response_alg: "ES256" },
    cookies: {
      keys: [randomBytes(32).toString("base64url")],
      // Cookies ignore ports, so on localhost the worker and the demo app
      // receive these too: names of their own keep them from colliding.
      names: {
        session: "demo_platform_session",
        interaction: "demo_platform_interaction",
        resume: "demo_platform_resume",
      },
    },
    responseTypes: ["code"],
    // No offline_access: refresh tokens play no part in the flows.
    scopes: ["openid"],
    // Seconds. A code lives a minute, as at most platforms; the rest only
    // needs to outlast a demo session.
    ttl: { AuthorizationCode: 60, AccessToken: 3600, Interaction: 600, Grant: 3600, Session: 3600 },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: SCOPE, audience: RESOURCE, accessTokenFormat: "opaque" }),
      },
    },
    // Peaka is a confidential client that authenticates with its client
    // secret, and its consent URLs carry no code_challenge.
    pkce: { required: () => false },
    // A consent per connection, as the flows assume: never reuse an earlier
    // grant of the same browser session, only the one just given.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    // Codes stay valid when the browser's session changes (a next consent in
    // the same browser), like those of the real platforms.
    expiresWithSession: async () => false,
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, name: DEMO_USER.name, email: DEMO_USER.email }),
    }),
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.set("Cache-Control", "no-store");
      ctx.set("Referrer-Policy", "no-referrer");
      const params = ctx.oidc?.params ?? {};
      ctx.body = errorPage(out, { clientId: params.client_id, redirectUri: params.redirect_uri });
    },
  });
  provider.on("authorization_code.saved", (code) => {
    issued.set(code.clientId, (issued.get(code.clientId) ?? 0) + 1);
  });

  /** oidc-provider's errors (an expired or finished interaction) as the stand-in's. */
  const interactionDetails = async (req, res) => {
    try {
      return await provider.interactionDetails(req, res);
    } catch (error) {
      if (typeof error?.error === "string" && typeof error?.status === "number") {
        throw new HttpError(error.status, error.error, error.error_description ?? error.message);
      }
      throw error;
    }
  };

  const interactionRoute = async (req, res, url) => {
    if (req.method === "GET") {
      const details = await interactionDetails(req, res);
      const client = await provider.Client.find(String(details.params.client_id));
      if (!client) throw new HttpError(400, "invalid_client", "The app of this request is no longer registered.");
      sendHtml(res, 200, consentPage(details, { name: client.clientName, clientId: client.clientId }, options.faults));
      return;
    }
    if (req.method !== "POST") throw new HttpError(405, "method_not_allowed", "GET or POST only.");
    const form = await requestParams(req, url);
    const details = await interactionDetails(req, res);
    const { client_id: clientId, state } = details.params;
    let result;
    if (form.get("decision") === "approve") {
      const grant = new provider.Grant({ accountId: DEMO_USER.accountId, clientId: String(clientId) });
      // Everything asked for, decided in one step: the first prompt of a new
      // browser is "login", whose details do not list the scopes yet.
      const requested = String(details.params.scope ?? "");
      grant.addResourceScope(RESOURCE, requested);
      if (requested.split(" ").includes("openid")) grant.addOIDCScope("openid");
      result = { login: { accountId: DEMO_USER.accountId }, consent: { grantId: await grant.save() } };
    } else {
      result = { error: "access_denied", error_description: "The user denied access" };
    }
    const fault = form.get("fault");
    if (options.faults && typeof state === "string" && fault) options.faults.choose(state, fault);
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  };
  const interactions = handler(interactionRoute, (error) => ({
    status: error.status,
    html: errorPage({ error: error.code, error_description: error.message }),
  }));
  const providerCallback = provider.callback();

  delegate = (req, res) => {
    const pathname = (req.url ?? "/").split("?")[0] ?? "/";
    // The interaction id in these paths goes with the user's cookie: not for logs.
    if (!options.quiet)
      console.log(`[platform] ${req.method} ${pathname.replace(/^\/(auth|interaction)\/.+/, "/$1/:uid")}`);
    if (pathname.startsWith("/interaction/")) return interactions(req, res);
    return providerCallback(req, res);
  };

  return {
    ...server,
    issuer,
    provider,
    /** Where consent URLs point (the browser's side). */
    authorizationUrl: `${issuer}/auth`,
    /** The token endpoint on the address the server listens on (server-to-server). */
    tokenUrl: `http://127.0.0.1:${server.port}/token`,
    clientIds: options.clients.map((client) => client.clientId),
    /** @param {string} clientId */
    codesIssued: (clientId) => issued.get(clientId) ?? 0,
    /**
     * A code as the authorization endpoint issues it after an approval, for
     * load tests that redeem thousands of codes without driving a consent
     * screen per code. Redeeming it is the real token endpoint's business.
     * @param {{ clientId: string, redirectUri: string }} request
     */
    async mintCode({ clientId, redirectUri }) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      const grant = new provider.Grant({ accountId: DEMO_USER.accountId, clientId });
      grant.addResourceScope(RESOURCE, SCOPE);
      const grantId = await grant.save();
      const code = new provider.AuthorizationCode({
        accountId: DEMO_USER.accountId,
        client,
        grantId,
        redirectUri,
        resource: RESOURCE,
        scope: SCOPE,
        // Seeding thousands of codes can take longer than a code's minute.
        expiresIn: 600,
      });
      return code.save();
    },
  };
}
