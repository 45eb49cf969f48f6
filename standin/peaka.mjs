// A local stand-in for one Peaka zone: partner API and Peaka's OAuth
// callback, on one origin, an OAuth client of the platform (provider.mjs).
// Development and tests only; nothing here is part of the worker.

import { clientSecretFor, peakaClientId } from "./flows.mjs";
import { escapeHtml, layout } from "./html.mjs";
import { HttpError, handler, listen, sendHtml, sendJson } from "./http.mjs";
import { createConnection, exchangeCallback } from "./peaka-api.mjs";
import { peakaCallback } from "./peaka-callback.mjs";
import { StandinState } from "./state.mjs";

/**
 * @typedef {object} StandinOptions
 * @property {"us" | "eu"} zone
 * @property {string} [origin]          Public origin for consent URLs and the callback; default http://localhost:<port>.
 * @property {string} projectId
 * @property {string} apiKey            The partner API key the worker must present.
 * @property {import("./platform-client.mjs").PlatformEndpoints} platform  The OAuth server consents and codes go through.
 * @property {Record<string, { redirectUri?: string, responseMode?: "query" | "form_post",
 *   tokenAuth?: "client_secret_basic" | "client_secret_post" }>} [apps]
 *   What Peaka knows of the OAuth apps by client id (flows.mjs `peakaApps`).
 * @property {string} [peakaClientSecret] The secret of Peaka's own app in this zone at the platform.
 * @property {number} [delayMs]         Fixed delay before every API answer (load tests, benchmarks).
 * @property {number} [slowMs]          How long the "slow" fault waits.
 * @property {"standard" | "guide"} [completionStyle]
 * @property {boolean} [quiet]          No request log lines.
 */

/**
 * @typedef {object} StandinContext
 * @property {Required<StandinOptions> & { peakaClientId: string }} options
 * @property {StandinState} state
 */

/** @param {StandinOptions} input @returns {StandinContext} */
export function createStandinContext(input) {
  return {
    options: {
      apps: {},
      delayMs: 0,
      slowMs: 15_000,
      completionStyle: "standard",
      quiet: false,
      peakaClientSecret: clientSecretFor(peakaClientId(input.zone)),
      ...input,
      peakaClientId: peakaClientId(input.zone),
    },
    state: new StandinState(input.zone),
  };
}

/** @param {StandinContext} ctx */
function apiPaths(ctx) {
  const base = `/api/v1/connections/${encodeURIComponent(ctx.options.projectId)}`;
  return { create: base, exchange: `${base}/oauth2` };
}

/** @param {StandinContext} ctx */
function homePage(ctx) {
  const { options, state } = ctx;
  const rows = [...state.connections.values()]
    .slice(-20)
    .reverse()
    .map(
      (c) =>
        `<tr><td><code>${escapeHtml(c.id)}</code></td><td>${escapeHtml(c.type)}</td><td>${escapeHtml(c.responseMode ?? "token")}</td><td>${escapeHtml(c.status)}</td></tr>`,
    )
    .join("");
  const body = `<div class="card"><h1>Peaka stand-in, ${escapeHtml(options.zone.toUpperCase())} zone</h1>
  <p class="muted">Partner API at <code>${escapeHtml(options.origin)}/api/v1</code>, Peaka's callback at
  <code>${escapeHtml(options.origin)}/oauth2/callback</code>. Consents and codes go through the platform at
  <a href="${escapeHtml(options.platform.issuer)}/.well-known/openid-configuration">${escapeHtml(options.platform.issuer)}</a>.
  Recorded calls: <a href="/__standin/calls">/__standin/calls</a>.</p>
  <table><tr><th>connection</th><th>type</th><th>response</th><th>status</th></tr>${rows}</table></div>`;
  return layout({
    title: "Peaka stand-in",
    brand: "Peaka stand-in",
    tag: options.zone.toUpperCase(),
    accent: "#1f6feb",
    body,
  });
}

/**
 * The request listener for one zone.
 * @param {StandinContext} ctx
 */
export function standinHandler(ctx) {
  const paths = apiPaths(ctx);
  const route = async (req, res, url) => {
    const { pathname } = url;
    if (!ctx.options.quiet) console.log(`[peaka-${ctx.options.zone}] ${req.method} ${pathname}`);
    if (req.method === "POST" && pathname === paths.create) return createConnection(ctx, req, res);
    if (req.method === "POST" && pathname === paths.exchange) return exchangeCallback(ctx, req, res);
    if (pathname.startsWith("/api/")) throw new HttpError(404, "not_found", "No such API endpoint or project.");
    if ((req.method === "GET" || req.method === "POST") && pathname === "/oauth2/callback") {
      return peakaCallback(ctx, req, res, url);
    }
    if (req.method === "GET" && pathname === "/__standin/calls") return sendJson(res, 200, ctx.state.calls);
    if (req.method === "GET" && pathname === "/") return sendHtml(res, 200, homePage(ctx));
    throw new HttpError(404, "not_found", "Nothing here.");
  };
  return handler(route, (error, req) => {
    const api = (req.url ?? "").startsWith("/api/") || (req.headers.accept ?? "").includes("application/json");
    if (api) return { status: error.status, json: { error: error.code, message: error.message } };
    const body = `<div class="card"><h1>Peaka stand-in: ${escapeHtml(error.code)}</h1><p>${escapeHtml(error.message)}</p></div>`;
    const zone = ctx.options.zone.toUpperCase();
    return {
      status: error.status,
      html: layout({ title: "Stand-in error", brand: "Peaka stand-in", tag: zone, accent: "#1f6feb", body }),
    };
  });
}

/**
 * Starts one zone's stand-in on 127.0.0.1.
 * @param {StandinOptions & { port: number }} options
 */
export async function startStandin(options) {
  const ctx = createStandinContext({ ...options, origin: options.origin ?? "" });
  const server = await listen(standinHandler(ctx), options.port);
  if (!ctx.options.origin) ctx.options.origin = `http://localhost:${server.port}`;
  return { ...server, ctx, origin: ctx.options.origin };
}
