// @ts-check
/// <reference lib="dom" />
/**
 * The browser client for popup mode: one dependency-free ES module a
 * partner's page imports as `peaka-connect-edge/client` (or serves as a
 * file). It opens the worker's startUrl in a popup and resolves with the
 * outcome the worker's last page posts back (docs/start.md, "Popup mode").
 * Plain JavaScript with JSDoc types; connect.d.ts is generated from them
 * (`npm run types`). It is not part of the worker's bundle.
 */

// The typedefs sit above an unexported constant so that tsc leaves this
// header out of connect.d.ts.

/**
 * @typedef {object} ConnectOptions
 * @property {string} [sessionId] The session the startUrl belongs to (the API answer's `sessionId`): messages about any other session are ignored.
 * @property {"reject" | "redirect"} [fallback] What to do when the browser blocks the popup: `"reject"` (default) rejects with `popup_blocked`; `"redirect"` sends this page to startUrl instead (the flow then ends on the return URL) and the promise never settles.
 * @property {number} [width] Popup width in CSS pixels; default 500.
 * @property {number} [height] Popup height in CSS pixels; default 680.
 */

/**
 * The outcome, as the return URL would have carried it. `status` alone
 * proves nothing: have your backend verify `result` (docs/result.md) or ask
 * the status API.
 * @typedef {object} ConnectResult
 * @property {string} sessionId
 * @property {string} [connectionId]
 * @property {"success" | "fail"} status
 * @property {string} [error] A failure code, or the provider's own error for a denial.
 * @property {string} [result] The signed result (with RESULT_SIGNING_KEY set).
 */

/**
 * Why connect() rejected: the browser blocked the popup, or the popup went
 * away without an outcome (the user closed it, or a Cross-Origin-Opener-Policy
 * cut it off from this page).
 * @typedef {"popup_blocked" | "window_closed"} ConnectErrorCode
 */

const SOURCE = "peaka-connect-edge";
const POLL_MS = 250;

export class ConnectError extends Error {
  /**
   * @param {ConnectErrorCode} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "ConnectError";
    /** @readonly */
    this.code = code;
  }
}

/** @param {unknown} value */
const optionalString = (value) => value === undefined || typeof value === "string";

/**
 * The worker's message, exactly: anything else the popup's origin might post is ignored.
 * @param {any} data
 * @param {string | undefined} sessionId
 * @returns {ConnectResult | undefined}
 */
function outcomeOf(data, sessionId) {
  if (typeof data !== "object" || data === null || data.source !== SOURCE) return undefined;
  if (typeof data.sessionId !== "string" || (sessionId !== undefined && data.sessionId !== sessionId)) return undefined;
  if (data.status !== "success" && data.status !== "fail") return undefined;
  if (![data.connectionId, data.error, data.result].every(optionalString)) return undefined;
  /** @type {ConnectResult} */
  const outcome = { sessionId: data.sessionId, status: data.status };
  if (data.connectionId !== undefined) outcome.connectionId = data.connectionId;
  if (data.error !== undefined) outcome.error = data.error;
  if (data.result !== undefined) outcome.result = data.result;
  return outcome;
}

/** @param {string} startUrl */
function checked(startUrl) {
  const url = new URL(startUrl, location.href);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError("startUrl must be an http(s) URL");
  return url;
}

/**
 * Opens startUrl (the API's `startUrl` or a signed start link, created with
 * `display: "popup"`) in a popup and resolves with the outcome.
 *
 * Call it directly in a click handler, before any `await`: browsers (Safari
 * first) block window.open once the user's gesture has been spent on async
 * work. To create the startUrl after the click, pass a promise of it: the
 * popup opens at once (blank) and goes to the startUrl when it arrives.
 *
 * @param {string | PromiseLike<string>} startUrl
 * @param {ConnectOptions} [options]
 * @returns {Promise<ConnectResult>}
 */
export function connect(startUrl, options = {}) {
  const known = typeof startUrl === "string" ? checked(startUrl) : undefined;
  const { width = 500, height = 680 } = options;
  const left = Math.round(screenX + Math.max(0, (outerWidth - width) / 2));
  const top = Math.round(screenY + Math.max(0, (outerHeight - height) / 2));
  // Synchronously, inside the caller's click: no await before this line.
  const popup = window.open(
    known?.href ?? "about:blank",
    "_blank",
    `popup,width=${width},height=${height},left=${left},top=${top}`,
  );
  return new Promise((resolve, reject) => {
    const later = Promise.resolve(startUrl).then(checked);
    if (!popup) {
      if (options.fallback === "redirect") later.then((url) => location.assign(url.href), reject);
      else {
        later.catch(() => {}); // nothing will use a startUrl made meanwhile
        reject(new ConnectError("popup_blocked", "The browser blocked the popup."));
      }
      return;
    }
    // Messages count only from the worker's origin, known once the startUrl is.
    let origin = known?.origin;
    let closedBefore = false;
    const stop = () => {
      removeEventListener("message", onMessage);
      clearInterval(timer);
    };
    /** @param {MessageEvent} event */
    const onMessage = (event) => {
      if (origin === undefined || event.origin !== origin || event.source !== popup) return;
      const outcome = outcomeOf(event.data, options.sessionId);
      if (!outcome) return;
      stop();
      popup.close();
      resolve(outcome);
    };
    // The page posts, then closes itself: the message may still be on its way
    // when `closed` turns true, so a closed popup gets one more poll's grace.
    const timer = setInterval(() => {
      if (!popup.closed) return;
      if (closedBefore) {
        stop();
        reject(new ConnectError("window_closed", "The popup was closed before the connection finished."));
      }
      closedBefore = true;
    }, POLL_MS);
    addEventListener("message", onMessage);
    if (!known) {
      later.then(
        (url) => {
          origin = url.origin;
          popup.location.replace(url.href);
        },
        (error) => {
          stop();
          popup.close();
          reject(error);
        },
      );
    }
  });
}
