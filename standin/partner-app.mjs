// The demo "partner app": the application a user starts a connection from
// and returns to. A button per flow and zone, and a landing page that shows
// what came back. Its origin is the one listed in RETURN_ORIGINS.

import { readFile } from "node:fs/promises";
import { Webhook } from "standardwebhooks";
import { verifyResult } from "../src/security/result.js";
import {
  FLOWS,
  flowById,
  MISREGISTERED_FLOW,
  MISREGISTERED_REDIRECT_URI,
  RIVERY_FLOW,
  TOKEN_FLOW,
  ZONES,
} from "./flows.mjs";
import { escapeHtml, hiddenInputs, layout } from "./html.mjs";
import { HttpError, handler, listen, readBody, redirect, requestParams, sendHtml, sendJson } from "./http.mjs";

const ACCENT = "#0f766e";
// The worker package's browser client, served as the partner's page would serve it.
const CLIENT_FILE = new URL("../src/client/connect.js", import.meta.url);

/**
 * @typedef {object} PartnerAppOptions
 * @property {string} origin                     e.g. http://localhost:3000
 * @property {Record<"relay" | "exchange", string>} workers  Edge worker origins by mode.
 * @property {import("./starters.mjs").Starter} start
 * @property {string} startedVia                 Shown on the page: how connections are started.
 * @property {Record<"us" | "eu", string>} standins
 * @property {string} platform                   The OAuth server's origin.
 * @property {string} [rivery]                   The Rivery stand-in's origin.
 * @property {string} [resultSigningKey]         RESULT_SIGNING_KEY: the landing page verifies `result` with it.
 * @property {string} [webhookSecret]            WEBHOOK_SECRET: POST /webhooks verifies deliveries with it.
 * @property {boolean} [quiet]
 */

/** The return URL a flow registers: flow and zone ride along so the landing page can show them. */
export function returnUrlFor(origin, flowId, zone) {
  const url = new URL("/connected", origin);
  url.searchParams.set("flow", flowId);
  url.searchParams.set("zone", zone);
  return url.href;
}

/** DEFAULT_RETURN_URL for the demo: marks users who came back without a stored record. */
export function defaultReturnUrl(origin) {
  const url = new URL("/connected", origin);
  url.searchParams.set("via", "default");
  return url.href;
}

function connectButtons(flow) {
  return ZONES.map(
    (zone) =>
      `<form class="inline" method="post" action="/connect">${hiddenInputs([
        ["flow", flow.id],
        ["zone", zone],
      ])}<button type="submit" id="connect-${escapeHtml(flow.id)}-${zone}">${zone.toUpperCase()}</button></form>`,
  ).join("");
}

/** How many webhooks the pages show, newest first. */
const WEBHOOKS_SHOWN = 20;

/**
 * What a partner's webhook endpoint does (docs/webhooks.md): verify the
 * signature over the raw body with the standardwebhooks package, then
 * de-duplicate on webhook-id, since delivery is at least once.
 * @param {import("node:http").IncomingMessage} req
 * @param {import("node:http").ServerResponse} res
 * @param {PartnerAppOptions} options
 * @param {Map<string, { payload: any, receivedAt: string, deliveries: number }>} received
 */
async function receiveWebhook(req, res, options, received) {
  const body = await readBody(req);
  if (!options.webhookSecret) throw new HttpError(404, "not_found", "Webhooks are not configured here.");
  let payload;
  try {
    payload = new Webhook(options.webhookSecret).verify(body, {
      "webhook-id": String(req.headers["webhook-id"] ?? ""),
      "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
      "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
    });
  } catch {
    if (!options.quiet) console.log("[partner-app] webhook refused: signature did not verify");
    // A 4xx other than 408/429: the worker dead-letters it rather than retrying.
    throw new HttpError(400, "invalid_signature", "The webhook signature did not verify.");
  }
  const id = String(req.headers["webhook-id"]);
  const seen = received.get(id);
  if (seen) seen.deliveries++;
  else {
    received.set(id, { payload, receivedAt: new Date().toISOString(), deliveries: 1 });
    // Keep the demo's memory bounded: forget the oldest.
    for (const old of [...received.keys()].slice(0, Math.max(0, received.size - WEBHOOKS_SHOWN))) received.delete(old);
  }
  sendJson(res, 200, { received: id, duplicate: seen !== undefined });
}

/** @param {Map<string, { payload: any, receivedAt: string, deliveries: number }>} received */
function webhooksCard(received) {
  const rows = [...received.entries()]
    .reverse()
    .map(([id, { payload, receivedAt, deliveries }]) => {
      const d = payload?.data ?? {};
      const cells = [payload?.type, d.sessionId, d.connectionId, d.status, d.error, d.reference, d.zone]
        .map(
          (value) =>
            `<td>${value === undefined || value === null ? '<span class="muted">none</span>' : `<code>${escapeHtml(String(value))}</code>`}</td>`,
        )
        .join("");
      return `<tr class="webhook" data-webhook-id="${escapeHtml(id)}"><td>${escapeHtml(receivedAt)}</td>${cells}<td>${deliveries}</td></tr>`;
    })
    .join("");
  const table = rows
    ? `<table id="webhooks"><tr><th>received</th><th>type</th><th>sessionId</th><th>connectionId</th><th>status</th><th>error</th><th>reference</th><th>zone</th><th>deliveries</th></tr>${rows}</table>`
    : '<p class="muted" id="webhooks-none">None yet: each finished connection sends one, a second or two after the redirect.</p>';
  return `<div class="card"><h2>Webhooks received</h2>
  <p class="muted">Signed by the edge worker (Standard Webhooks), verified here with the <code>standardwebhooks</code> package; redeliveries of one <code>webhook-id</code> are counted, not shown twice. <a href="">Refresh</a></p>${table}</div>`;
}

/** The popup variant: a button whose click calls the client's connect() (POPUP_SCRIPT). */
function popupButtons(flow) {
  if (flow.token) return '<span class="muted">no browser step</span>';
  return ZONES.map(
    (zone) =>
      `<button type="button" class="secondary" data-popup="${escapeHtml(`${flow.id} ${zone}`)}" id="popup-${escapeHtml(flow.id)}-${zone}">${zone.toUpperCase()}</button> `,
  ).join("");
}

/**
 * The page's side of popup mode. connect() runs first thing in the click (a
 * browser keeps the popup only while the click's activation lasts) and gets
 * the startUrl as a promise: the app's backend creates it meanwhile. The
 * outcome is shown in place, and the backend verifies its signed result.
 * `/?popup=<flow>-<zone>` starts one without a click: browsers block that
 * popup, which shows popup_blocked or, with `&fallback=redirect`, the
 * full-page way.
 */
const POPUP_SCRIPT = `import { ConnectError, connect } from "/client.js";
const show = (values) => {
  for (const [id, value] of Object.entries(values)) document.getElementById(id).textContent = value ?? "none";
};
const post = (path, fields) => fetch(path, { method: "POST", body: new URLSearchParams(fields) });
function start(flow, zone, fallback) {
  const startUrl = post("/popup-start", { flow, zone }).then(async (response) => {
    if (!response.ok) throw new Error("the app could not start the connection (" + response.status + ")");
    return (await response.json()).startUrl;
  });
  const pending = connect(startUrl, { fallback });
  show({ "popup-state": "waiting for the popup", "popup-status": "", "popup-connection-id": "", "popup-error": "", "popup-result": "" });
  pending.then(
    async (outcome) => {
      const fields = { status: outcome.status, connectionId: outcome.connectionId ?? "", result: outcome.result ?? "" };
      const verdict = await (await post("/popup-verify", fields)).text();
      show({ "popup-state": "resolved", "popup-status": outcome.status, "popup-connection-id": outcome.connectionId,
        "popup-error": outcome.error, "popup-result": verdict });
    },
    (error) => show({ "popup-state": "rejected", "popup-error": error instanceof ConnectError ? error.code : error.message }),
  );
}
const fallbackOf = () => (document.getElementById("popup-fallback").checked ? "redirect" : "reject");
for (const button of document.querySelectorAll("button[data-popup]")) {
  const [flow, zone] = button.dataset.popup.split(" ");
  button.addEventListener("click", () => start(flow, zone, fallbackOf()));
}
const query = new URLSearchParams(location.search);
const auto = /^(.+)-(us|eu)$/.exec(query.get("popup") ?? "");
if (auto) start(auto[1], auto[2], query.get("fallback") === "redirect" ? "redirect" : "reject");`;

/** @param {PartnerAppOptions} options */
function homePage(options, received) {
  const rows = [...FLOWS, TOKEN_FLOW]
    .map(
      (flow) => `<tr><td><b>${escapeHtml(flow.option)}</b></td><td>${escapeHtml(flow.title)}</td>
      <td><code>${escapeHtml(flow.worker)}</code> <span class="muted">${escapeHtml(options.workers[flow.worker])}</span></td>
      <td>${connectButtons(flow)}</td><td>${popupButtons(flow)}</td></tr>`,
    )
    .join("");
  const outcome = [
    ["state", "popup-state"],
    ["status", "popup-status"],
    ["connectionId", "popup-connection-id"],
    ["error", "popup-error"],
    ["result", "popup-result"],
  ]
    .map(([name, id]) => `<tr><th>${name}</th><td id="${id}"><span class="muted">none</span></td></tr>`)
    .join("");
  const unknown = new URL("/oauth2/complete", options.workers.relay);
  unknown.searchParams.set("connectionId", "never-started-0001");
  unknown.searchParams.set("status", "success");
  const errorPage = new URL("/oauth2/complete", options.workers.exchange);
  errorPage.searchParams.set("connectionId", "never-started-0002");
  errorPage.searchParams.set("status", "success");
  const body = `<div class="card"><h1>Connect your Google Analytics data</h1>
  <p class="muted">Every button runs one flow of Peaka's OAuth2 guide through the edge worker, against a local
  Peaka stand-in (<a href="${escapeHtml(options.standins.us)}">US</a>, <a href="${escapeHtml(options.standins.eu)}">EU</a>)
  and a real OAuth 2.0 server as the platform (<a href="${escapeHtml(options.platform)}/.well-known/openid-configuration">oidc-provider</a>).
  Connections are started ${escapeHtml(options.startedVia)}.</p>
  <table><tr><th>option</th><th>flow</th><th>edge worker</th><th>zone</th><th>popup</th></tr>${rows}</table></div>
  <div class="card"><h2>Popup mode</h2>
  <p class="muted">The popup buttons run the same flows in a popup through <code>peaka-connect-edge/client</code>;
  the outcome shows here, without leaving the page.</p>
  <label><input type="checkbox" id="popup-fallback"> if the browser blocks the popup, go the full-page way</label>
  <table id="popup-outcome">${outcome}</table></div>
  <div class="card"><h2>Rivery</h2><p class="muted">A second platform: the worker opens a Rivery credentials
  request, shows a waiting page that opens Rivery's consent in a popup, and creates the connection itself once
  the user has authorised (local <a href="${escapeHtml(options.rivery ?? "")}">Rivery stand-in</a>; pick a fault on its consent page).</p>
  <table><tr><th>flow</th><th>zone</th><th>popup</th></tr><tr><td>${escapeHtml(RIVERY_FLOW.title)}</td><td>${connectButtons(RIVERY_FLOW)}</td><td>${popupButtons(RIVERY_FLOW)}</td></tr></table></div>
  <div class="card"><h2>Other paths</h2><ul>
  <li>Peaka failing during the exchange: start a 2.b.3 flow and pick a fault on the consent screen.</li>
  <li>OAuth app registered with another redirect URI (<code>${escapeHtml(MISREGISTERED_REDIRECT_URI)}</code>):
  the platform refuses and says why. ${connectButtons(MISREGISTERED_FLOW)}</li>
  <li><a id="no-record" href="${escapeHtml(unknown.href)}">Completion without a stored record</a>: falls back to DEFAULT_RETURN_URL.</li>
  <li><a id="error-page" href="${escapeHtml(errorPage.href)}">Completion on a worker without DEFAULT_RETURN_URL</a>: the built-in error page.</li>
  </ul></div>${webhooksCard(received)}<script type="module">${POPUP_SCRIPT}</script>`;
  return layout({ title: "Demo partner app", brand: "Acme Analytics", tag: "demo partner app", accent: ACCENT, body });
}

/**
 * What a partner's backend does with the return URL: `status` alone proves
 * nothing; the signed `result` does, if it verifies for this app's origin
 * and says the same as the query.
 * @param {URLSearchParams} params
 * @param {PartnerAppOptions} options
 */
async function verification(params, options) {
  const token = params.get("result");
  if (token === null) return "not verified (no result)";
  if (!options.resultSigningKey) return "not verified (no key configured)";
  try {
    const claims = await verifyResult(token, options.resultSigningKey, { audience: options.origin });
    const same = claims.status === params.get("status") && (claims.sub ?? null) === params.get("connectionId");
    return same ? `verified (${claims.status} via ${claims.via})` : "not verified (result and query differ)";
  } catch (error) {
    return `not verified (${error && typeof error === "object" && "code" in error ? error.code : "error"})`;
  }
}

/**
 * @param {URLSearchParams} params
 * @param {PartnerAppOptions} options
 */
async function landingPage(params, options, received) {
  const status = params.get("status");
  const flow = flowById(params.get("flow") ?? "");
  const rows = [
    ["connectionId", params.get("connectionId"), "connection-id"],
    ["status", status, "status"],
    ["error", params.get("error"), "error"],
    ["error_description", params.get("error_description"), "error-description"],
    ["flow", flow ? `${flow.option} ${flow.title}` : params.get("flow"), "flow"],
    ["zone", params.get("zone"), "zone"],
    ["via", params.get("via") === "default" ? "DEFAULT_RETURN_URL (no stored record)" : "stored return URL", "via"],
    ["result", await verification(params, options), "result"],
  ]
    .map(
      ([name, value, id]) =>
        `<tr><th>${escapeHtml(name)}</th><td id="${id}">${value === null || value === undefined ? '<span class="muted">none</span>' : `<code>${escapeHtml(value)}</code>`}</td></tr>`,
    )
    .join("");
  const headline =
    status === "success"
      ? '<h1 class="ok">Connected</h1>'
      : status === "fail"
        ? '<h1 class="fail">Connection failed</h1>'
        : "<h1>Back in the app</h1>";
  const body = `<div class="card">${headline}<table>${rows}</table>
  <p><a href="/">Back to the demo</a></p></div>${webhooksCard(received)}`;
  return layout({ title: "Connection result", brand: "Acme Analytics", tag: "demo partner app", accent: ACCENT, body });
}

/** @param {URLSearchParams} form */
function flowAndZone(form) {
  const flow = flowById(form.get("flow") ?? "");
  const zone = form.get("zone");
  if (!flow || (zone !== "us" && zone !== "eu")) throw new HttpError(400, "invalid_request", "Unknown flow or zone.");
  return { flow, zone };
}

/** @param {PartnerAppOptions} options */
export function partnerAppHandler(options) {
  /** Verified webhooks by webhook-id, in arrival order. */
  const received = new Map();
  /** @param {import("./flows.mjs").Flow} flow @param {"us" | "eu"} zone @param {"popup"} [display] */
  const startFlow = async (flow, zone, display) => {
    const returnUrl = returnUrlFor(options.origin, flow.id, zone);
    try {
      return await options.start({ flow, zone, returnUrl, ...(display ? { display } : {}) });
    } catch (error) {
      throw new HttpError(502, "start_failed", error instanceof Error ? error.message : String(error));
    }
  };
  const route = async (req, res, url) => {
    if (!options.quiet) console.log(`[partner-app] ${req.method} ${url.pathname}`);
    if (req.method === "GET" && url.pathname === "/") {
      // `/?coop=same-origin` serves the home page with the COOP a partner must
      // not send (docs/start.md, "Popup mode"): it cuts the popup off.
      if (url.searchParams.get("coop") === "same-origin") res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      return sendHtml(res, 200, homePage(options, received));
    }
    if (req.method === "GET" && url.pathname === "/connected") {
      return sendHtml(res, 200, await landingPage(new URLSearchParams(url.search), options, received));
    }
    if (req.method === "POST" && url.pathname === "/webhooks") return receiveWebhook(req, res, options, received);
    if (req.method === "GET" && url.pathname === "/client.js") {
      res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store" });
      return res.end(await readFile(CLIENT_FILE));
    }
    if (req.method === "POST" && url.pathname === "/popup-start") {
      // The startUrl for connect(): the flow's return URL, with display "popup".
      const { flow, zone } = flowAndZone(await requestParams(req, url));
      const started = await startFlow(flow, zone, "popup");
      if (!("location" in started)) throw new HttpError(400, "invalid_request", "A token connection has no popup.");
      return sendJson(res, 200, { startUrl: started.location });
    }
    if (req.method === "POST" && url.pathname === "/popup-verify") {
      // What the backend does with a popup's outcome: verify its signed result.
      const text = await verification(await requestParams(req, url), options);
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
      return res.end(text);
    }
    if (req.method === "POST" && url.pathname === "/connect") {
      const { flow, zone } = flowAndZone(await requestParams(req, url));
      const returnUrl = returnUrlFor(options.origin, flow.id, zone);
      const started = await startFlow(flow, zone);
      if ("location" in started) return redirect(res, started.location, 303);
      // A token connection exists already: the app shows it the way it shows any other.
      const landing = new URL(returnUrl);
      landing.searchParams.set("connectionId", started.connectionId);
      landing.searchParams.set("status", "success");
      return redirect(res, landing, 303);
    }
    throw new HttpError(404, "not_found", "Nothing here.");
  };
  return handler(route, (error, req) => {
    if (req.url?.startsWith("/webhooks")) return { status: error.status, json: { error: error.code } };
    const body = `<div class="card"><h1 class="fail">${escapeHtml(error.code)}</h1><p id="message">${escapeHtml(error.message)}</p>
    <p><a href="/">Back to the demo</a></p></div>`;
    return {
      status: error.status,
      html: layout({ title: "Demo app error", brand: "Acme Analytics", tag: "demo partner app", accent: ACCENT, body }),
    };
  });
}

/** @param {PartnerAppOptions & { port: number }} options */
export async function startPartnerApp(options) {
  return listen(partnerAppHandler(options), options.port);
}
