import type { Context } from "hono";
import { type Redirect, withParams } from "../core/way-back";
import { FAILURES, type FailureCode } from "../failures/codes";
import type { FieldProblem } from "../failures/failure";
import type { AppEnv } from "./context";
import { renderErrorPage } from "./error-page";
import { PAGE_CSP } from "./headers";
import { renderPopupPage } from "./popup-page";

/**
 * A redirect with no body. 307 for relays (the browser repeats the method and
 * body), 303 otherwise. A popup flow's way back is the popup page instead.
 */
export function redirect(way: Redirect): Response {
  if (way.popup) return renderPopupPage({ ...way, popup: way.popup });
  const { location, status, setCookies } = way;
  const response = new Response(null, { status, headers: { Location: location } });
  for (const cookie of setCookies ?? []) response.headers.append("Set-Cookie", cookie);
  return response;
}

/** API clients say so in Accept; browsers send text/html first. */
export function prefersJson(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

export interface FailureView {
  readonly code: FailureCode;
  readonly status: number;
  readonly requestId: string;
  readonly connectionId?: string | undefined;
  readonly detail?: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  readonly fields?: readonly FieldProblem[] | undefined;
}

/**
 * Renders a failure as JSON for API clients, as a redirect to the partner's
 * ERROR_URL on browser-facing OAuth routes when one is configured, and as the
 * built-in page otherwise.
 */
export function renderFailure(
  c: Context<AppEnv>,
  view: FailureView,
  options: { json: boolean; errorUrl?: string | undefined },
): Response {
  const headers = new Headers(view.headers);
  if (options.json) {
    headers.set("Content-Type", "application/json; charset=utf-8");
    const body = {
      error: view.code,
      message: view.detail ? `${FAILURES[view.code].message} ${view.detail}` : FAILURES[view.code].message,
      requestId: view.requestId,
      // JSON drops the undefined ones.
      connectionId: view.connectionId,
      fields: view.fields,
    };
    return new Response(JSON.stringify(body), { status: view.status, headers });
  }
  if (options.errorUrl) {
    const target = withParams(new URL(options.errorUrl), {
      error: view.code,
      connectionId: view.connectionId,
      requestId: view.requestId,
    });
    headers.set("Location", target.href);
    return new Response(null, { status: 303, headers });
  }
  headers.set("Content-Type", "text/html; charset=utf-8");
  headers.set("Content-Security-Policy", PAGE_CSP);
  headers.set("X-Frame-Options", "DENY");
  const html = c.req.method === "HEAD" ? null : renderErrorPage(view);
  return new Response(html, { status: view.status, headers });
}
