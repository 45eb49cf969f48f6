import type { Redirect } from "../core/way-back";
import { escapeHtml } from "./error-page";

/**
 * The page's only script, constant so that the CSP can pin it by hash instead
 * of allowing inline script: its data comes from the JSON element. It posts
 * only to the return URL's origin (never "*": another page in the opener
 * would otherwise read the outcome). Without an opener (a COOP cut it, or the
 * user opened the link in a tab) it takes the normal way back instead.
 */
export const POPUP_SCRIPT =
  'var d=JSON.parse(document.getElementById("d").textContent),o=window.opener;if(o&&!o.closed){o.postMessage(d.m,d.t);close()}else location.replace(d.l)';
/** base64 SHA-256 of POPUP_SCRIPT; test/popup-page.test.ts recomputes it. */
export const POPUP_SCRIPT_HASH = "sha256-Q270OP2nXP9OnR5IeOVOgmbeVo9W8GAOUMl9Q5BVnU8=";

/**
 * Nothing but the one script, pinned by hash (the page is unstyled: it is seen
 * for a moment at most). No
 * Cross-Origin-Opener-Policy on purpose: any value but unsafe-none would put
 * this page in a new browsing context group and cut window.opener.
 */
export const POPUP_CSP = `default-src 'none'; script-src '${POPUP_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** JSON that cannot end its <script> element: "<" never appears raw. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * The popup flow's last page: hands the outcome to the opener, else redirects
 * as usual. The message goes exactly where the redirect would have gone: a
 * target origin other than the (already allow-listed) location's is a bug,
 * answered as one rather than posted.
 */
export function renderPopupPage(way: Redirect & { popup: NonNullable<Redirect["popup"]> }): Response {
  const target = new URL(way.location).origin;
  if (target !== way.popup.targetOrigin || target === "null") throw new Error("popup target is not the return origin");
  const data = scriptJson({ t: target, m: way.popup.message, l: way.location });
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Connecting</title></head><body><p>Returning to the app… <a href="${escapeHtml(way.location)}">Continue</a></p><script type="application/json" id="d">${data}</script><script>${POPUP_SCRIPT}</script></body></html>`;
  const response = new Response(html, {
    status: 200,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": POPUP_CSP,
      "X-Frame-Options": "DENY",
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
    },
  });
  for (const cookie of way.setCookies ?? []) response.headers.append("Set-Cookie", cookie);
  return response;
}
