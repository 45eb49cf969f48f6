// Generated from connect.js by `npm run types`: change the JSDoc there, not this file.
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
export function connect(startUrl: string | PromiseLike<string>, options?: ConnectOptions): Promise<ConnectResult>;
export class ConnectError extends Error {
  /**
   * @param {ConnectErrorCode} code
   * @param {string} message
   */
  constructor(code: ConnectErrorCode, message: string);
  /** @readonly */
  readonly code: ConnectErrorCode;
}
export type ConnectOptions = {
  /**
   * The session the startUrl belongs to (the API answer's `sessionId`): messages about any other session are ignored.
   */
  sessionId?: string | undefined;
  /**
   * What to do when the browser blocks the popup: `"reject"` (default) rejects with `popup_blocked`; `"redirect"` sends this page to startUrl instead (the flow then ends on the return URL) and the promise never settles.
   */
  fallback?: "reject" | "redirect" | undefined;
  /**
   * Popup width in CSS pixels; default 500.
   */
  width?: number | undefined;
  /**
   * Popup height in CSS pixels; default 680.
   */
  height?: number | undefined;
};
/**
 * The outcome, as the return URL would have carried it. `status` alone
 * proves nothing: have your backend verify `result` (docs/result.md) or ask
 * the status API.
 */
export type ConnectResult = {
  sessionId: string;
  connectionId?: string | undefined;
  status: "success" | "fail";
  /**
   * A failure code, or the provider's own error for a denial.
   */
  error?: string | undefined;
  /**
   * The signed result (with RESULT_SIGNING_KEY set).
   */
  result?: string | undefined;
};
/**
 * Why connect() rejected: the browser blocked the popup, or the popup went
 * away without an outcome (the user closed it, or a Cross-Origin-Opener-Policy
 * cut it off from this page).
 */
export type ConnectErrorCode = "popup_blocked" | "window_closed";
