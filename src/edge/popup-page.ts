import type { Redirect } from "../core/way-back";
import { POPUP_JS } from "./assets";
import { escapeHtml } from "./error-page";
import { CSP_TAIL } from "./headers";

/**
 * Nothing but its one script, public/assets/popup.js, from this origin (see
 * PAGE_CSP for why 'self' is safe); the page is unstyled: it is seen for a
 * moment at most. The script reads its data from the JSON element and posts
 * only to the return URL's origin (never "*": another page in the opener
 * would otherwise read the outcome); without an opener (a COOP cut it, or
 * the user opened the link in a tab) it takes the normal way back instead.
 * No Cross-Origin-Opener-Policy on purpose: any value but unsafe-none would
 * put this page in a new browsing context group and cut window.opener.
 */
export const POPUP_CSP = `default-src 'none'; script-src 'self'; ${CSP_TAIL}`;

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
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="robots" content="noindex"><title>Connecting</title><p>Returning to the app… <a href="${escapeHtml(way.location)}">Continue</a><script type="application/json" id="d">${data}</script><script src="${POPUP_JS}"></script>`;
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
