// One trip through a flow in the browser, with the browser's own request log:
// every request Chromium made, redirects included, in order.

import { CALLBACK_PATH } from "../standin/flows.mjs";

/**
 * @typedef {{ url: string, method: string, postData: string, type: string }} LoggedRequest
 * @typedef {{ page: import("playwright-core").Page, requests: LoggedRequest[], statuses: Map<string, number> }} Tab
 */

/** @param {import("playwright-core").BrowserContext} context @returns {Promise<Tab>} */
export async function openTab(context) {
  const page = await context.newPage();
  /** @type {LoggedRequest[]} */
  const requests = [];
  const statuses = new Map();
  page.on("request", (request) => {
    requests.push({
      url: request.url(),
      method: request.method(),
      postData: request.postData() ?? "",
      type: request.resourceType(),
    });
  });
  page.on("response", (response) => statuses.set(response.url(), response.status()));
  return { page, requests, statuses };
}

/** The platform's per-request paths carry the interaction id; one name for all of them. */
const PLATFORM_UID_PATH = /^\/(auth|interaction)\/[^/]+$/;

/**
 * Names a URL by the part of the setup that serves it, e.g.
 * "relay:/oauth2/mycallback" or "platform:/interaction/:uid".
 * @param {string} href @param {Record<string, string>} urls
 */
export function where(href, urls) {
  const url = new URL(href);
  for (const [name, origin] of Object.entries(urls)) {
    if (url.origin !== new URL(origin).origin) continue;
    const path = name === "platform" ? url.pathname.replace(PLATFORM_UID_PATH, "/$1/:uid") : url.pathname;
    return `${name}:${path}`;
  }
  return `other:${url.origin}${url.pathname}`;
}

/** The requests that matter for a flow: no favicons, no scripts (the demo's /client.js). @param {LoggedRequest[]} requests */
export function navigations(requests) {
  return requests.filter((r) => r.type !== "script" && !new URL(r.url).pathname.endsWith("/favicon.ico"));
}

/** Parameters of a request: its query plus a form body. @param {LoggedRequest} request */
export function paramsOf(request) {
  const params = new URLSearchParams(new URL(request.url).search);
  if (request.method === "POST") for (const [k, v] of new URLSearchParams(request.postData)) params.append(k, v);
  return params;
}

/**
 * "METHOD place" for every request after the user's decision on the
 * platform's consent screen: the redirect chain the flow is about.
 * @param {LoggedRequest[]} requests @param {Record<string, string>} urls
 */
export function hopsAfterConsent(requests, urls) {
  const list = navigations(requests);
  const decision = list.findLastIndex(
    (r) => r.method === "POST" && where(r.url, urls) === "platform:/interaction/:uid",
  );
  return list.slice(decision + 1).map((r) => `${r.method} ${where(r.url, urls)}`);
}

/**
 * The authorization request the browser made at the platform (the consent
 * URL Peaka handed out), if any.
 * @param {LoggedRequest[]} requests @param {Record<string, string>} urls
 */
export function authorizationRequest(requests, urls) {
  return navigations(requests).find((r) => r.method === "GET" && where(r.url, urls) === "platform:/auth");
}

/**
 * The last callback request (Peaka's or the edge worker's), where the
 * authorization code legitimately appears; null if there was none.
 * @param {LoggedRequest[]} requests @param {Record<string, string>} urls
 */
export function lastCallbackIndex(requests, urls) {
  return navigations(requests).findLastIndex((r) => {
    const place = where(r.url, urls);
    return place.endsWith(":/oauth2/callback") || place.endsWith(`:${CALLBACK_PATH}`);
  });
}

/**
 * Starts a flow from the demo app and decides on the platform's consent screen.
 * @param {Tab} tab
 * @param {{ urls: Record<string, string> }} stack
 * @param {{ flowId: string, zone: "us" | "eu", decision: "approve" | "deny", fault?: string,
 *   onConsent?: (tab: Tab) => Promise<void> }} journey
 */
export async function connectAndDecide(tab, stack, journey) {
  const { page } = tab;
  await page.goto(`${stack.urls.app}/`);
  await page.click(`#connect-${journey.flowId}-${journey.zone}`);
  const platformOrigin = new URL(stack.urls.platform).origin;
  await page.waitForURL((url) => url.origin === platformOrigin && url.pathname.startsWith("/interaction/"));
  if (journey.fault) await page.check(`input[name="fault"][value="${journey.fault}"]`);
  await journey.onConsent?.(tab);
  await page.click(journey.decision === "approve" ? "#approve" : "#deny");
}

/**
 * Starts a flow in popup mode from the demo app: clicks its popup button
 * (connect() opens the popup inside the click) and returns the popup as a
 * Tab with its own request log.
 * @param {Tab} tab
 * @param {{ urls: Record<string, string> }} stack
 * @param {{ flowId: string, zone: "us" | "eu", path?: string }} journey
 * @returns {Promise<Tab & { headers: Map<string, Record<string, string>> }>}
 */
export async function openPopup(tab, stack, journey) {
  await tab.page.goto(new URL(journey.path ?? "/", stack.urls.app).href);
  const [page] = await Promise.all([
    tab.page.waitForEvent("popup"),
    tab.page.click(`#popup-${journey.flowId}-${journey.zone}`),
  ]);
  /** @type {LoggedRequest[]} */
  const requests = [];
  const statuses = new Map();
  const headers = new Map();
  page.on("request", (request) => {
    requests.push({
      url: request.url(),
      method: request.method(),
      postData: request.postData() ?? "",
      type: request.resourceType(),
    });
  });
  page.on("response", (response) => {
    statuses.set(response.url(), response.status());
    headers.set(response.url(), response.headers());
  });
  return { page, requests, statuses, headers };
}

/** Waits until the demo app's popup panel says `state` ("resolved", "rejected"). @param {Tab} tab */
export async function popupOutcome(tab, state, timeout = 15_000) {
  try {
    await tab.page.waitForFunction((s) => document.getElementById("popup-state")?.textContent === s, state, {
      timeout,
    });
  } catch (error) {
    const shown = await tab.page.textContent("#popup-state").catch(() => "?");
    const problem = await tab.page.textContent("#popup-error").catch(() => "?");
    throw new Error(`the popup panel says "${shown}" (error "${problem}"), not "${state}"`, { cause: error });
  }
  const read = async (id) => ((await tab.page.textContent(`#${id}`)) ?? "").trim();
  return {
    status: await read("popup-status"),
    connectionId: await read("popup-connection-id"),
    error: await read("popup-error"),
    result: await read("popup-result"),
  };
}

/**
 * Waits for the page to settle on a URL the predicate accepts. On timeout it
 * says where the browser ended instead (origin, path and heading; never the
 * query, which may hold a code).
 * @param {Tab} tab
 */
export async function settleOn(tab, predicate, timeout = 15_000) {
  try {
    await tab.page.waitForURL(predicate, { timeout, waitUntil: "load" });
  } catch (error) {
    const url = new URL(tab.page.url());
    const heading = await tab.page
      .textContent("h1", { timeout: 1000 })
      .then((text) => text?.trim())
      .catch(() => undefined);
    const status = tab.statuses.get(tab.page.url());
    throw new Error(
      `the browser ended on ${url.origin}${url.pathname} (status ${status ?? "?"}, heading "${heading ?? ""}")`,
      { cause: error },
    );
  }
  return new URL(tab.page.url());
}
