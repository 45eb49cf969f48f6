// How the demo partner app starts a connection (guide steps 1-4). Through the
// edge worker (its server API, or a signed start link for Peaka's own app) is
// what a partner deploys; "direct" calls the stand-in's partner API the way
// the guide's own examples do, with no return URL stored at the edge, so the
// user comes back through DEFAULT_RETURN_URL.

import { CALLBACK_PATH, COMPLETE_PATH, clientSecretFor, DEMO_STRIPE_TOKEN } from "./flows.mjs";

const CONNECTION_TYPE = "google_analytics";
const TOKEN_TYPE = "stripe";
/** Rivery's datasource_id for Google Sheets, as in Rivery's article. */
const RIVERY_DATASOURCE = "gspreadsheet";

/**
 * @typedef {{ flow: import("./flows.mjs").Flow, zone: "us" | "eu", returnUrl: string, display?: "popup" }} StartRequest
 *   `display: "popup"`: the flow ends on the worker's popup page (docs/start.md, "Popup mode").
 * @typedef {(request: StartRequest) => Promise<{ location: string } | { connectionId: string }>} Starter
 *   A consent URL to send the browser to, or, for a token connection, the connection made at once.
 */

/** @param {import("./flows.mjs").Flow} flow */
function credentialFor(flow) {
  if (flow.token) return { token: DEMO_STRIPE_TOKEN };
  return flow.clientId ? { clientId: flow.clientId, clientSecret: clientSecretFor(flow.clientId) } : undefined;
}

/** @param {Response} response */
async function failure(response, what) {
  const text = await response.text();
  let message = text.slice(0, 500);
  try {
    const json = JSON.parse(text);
    message = json.message ?? json.error ?? message;
  } catch {
    // Not JSON: the first part of the body is the best description there is.
  }
  return new Error(`${what} answered ${response.status}: ${message}`);
}

/**
 * Starts through the edge worker's server API, `POST /api/v1/connections`.
 * With `signLink`, Peaka's-app flows (no credential) use a signed start link
 * instead, the "Connect button" way in.
 * @param {{ workers: Record<"relay" | "exchange", string>, adminToken: string,
 *   signLink?: (params: { type: string, name: string, returnUrl: string, zone: string, display?: "popup" }, workerOrigin: string) => Promise<string> | string }} options
 * @returns {Starter}
 */
export function edgeStarter(options) {
  return async ({ flow, zone, returnUrl, display }) => {
    const worker = options.workers[flow.worker];
    const name = `demo-${flow.id}-${zone}`;
    const credential = credentialFor(flow);
    const shown = display ? { display } : {};
    const rivery = flow.platform === "rivery";
    if (!credential && !rivery && options.signLink) {
      return { location: await options.signLink({ type: CONNECTION_TYPE, name, returnUrl, zone, ...shown }, worker) };
    }
    const response = await fetch(new URL("/api/v1/connections", worker), {
      method: "POST",
      headers: {
        Authorization: `Bearer ${options.adminToken}`,
        "Content-Type": "application/json",
        Accept: "application/json",
      },
      body: JSON.stringify({
        type: rivery ? RIVERY_DATASOURCE : flow.token ? TOKEN_TYPE : CONNECTION_TYPE,
        name,
        returnUrl,
        zone,
        ...shown,
        ...(rivery ? { platform: "rivery" } : {}),
        ...(credential ? { credential } : {}),
      }),
      redirect: "manual",
    });
    if (!response.ok) throw await failure(response, "The edge worker's API");
    const answer = await response.json();
    if (flow.token && typeof answer.connectionId === "string") return { connectionId: answer.connectionId };
    // The browser's first stop is the worker's startUrl, which binds it to this flow.
    if (typeof answer.startUrl !== "string") throw new Error("The edge worker's API returned no startUrl.");
    return { location: answer.startUrl };
  };
}

/**
 * Starts by calling the (stand-in) Peaka partner API directly.
 * @param {{ workers: Record<"relay" | "exchange", string>, standins: Record<"us" | "eu", string>, projectId: string, apiKey: string }} options
 * @returns {Starter}
 */
export function directStarter(options) {
  return async ({ flow, zone }) => {
    if (flow.platform === "rivery")
      throw new Error("Rivery flows start through the edge worker only (npm run dev without --direct).");
    const worker = options.workers[flow.worker];
    const credential = credentialFor(flow);
    const body = flow.token
      ? { credential }
      : flow.worker === "exchange"
        ? { credential: { ...credential, redirectUrl: new URL(CALLBACK_PATH, worker).href } }
        : { connectionCallback: new URL(COMPLETE_PATH, worker).href, ...(credential ? { credential } : {}) };
    const api = new URL(`/api/v1/connections/${encodeURIComponent(options.projectId)}`, options.standins[zone]);
    const response = await fetch(api, {
      method: "POST",
      headers: { Authorization: `Bearer ${options.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        name: `demo-${flow.id}-${zone}`,
        type: flow.token ? TOKEN_TYPE : CONNECTION_TYPE,
        ...body,
      }),
      redirect: "manual",
    });
    if (!response.ok) throw await failure(response, "Peaka's partner API");
    const answer = await response.json();
    return flow.token ? { connectionId: answer.id } : { location: answer.url };
  };
}
