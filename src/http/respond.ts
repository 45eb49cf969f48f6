import type { Context } from "hono";
import type { Config } from "../config/types";
import { checkReturnUrl } from "../security/return-url";
import type { AppEnv } from "./context";
import { renderErrorPage } from "./error-page";
import { AppFailure, FAILURES, type FailureCode, type FieldProblem } from "./failures";
import { PAGE_CSP } from "./headers";

/** A redirect with no body. 307 for relays (the browser repeats the method and body), 303 otherwise. */
export function redirect(location: string, status: 303 | 307): Response {
  return new Response(null, { status, headers: { Location: location } });
}

/**
 * Adds parameters to a return URL. The existing query is kept byte for byte
 * (a partner's own signed or encoded parameters survive); only when it already
 * holds one of our names are those values replaced through URLSearchParams.
 */
export function withParams(url: URL, params: Readonly<Record<string, string | undefined>>): URL {
  const added = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) added.set(name, value);
  const existing = new URLSearchParams(url.search);
  const clash = [...added.keys()].some((name) => existing.has(name));
  const out = new URL(url);
  if (clash) {
    for (const [name, value] of added) out.searchParams.set(name, value);
  } else {
    const current = url.search.slice(1);
    out.search = current ? `${current}&${added.toString()}` : added.toString();
  }
  return out;
}

/**
 * Sends the browser back to a stored or configured return URL with the
 * outcome. The URL is checked against RETURN_ORIGINS again here, right before
 * use: a record written under an older allow-list must not become an open
 * redirect.
 */
export function returnTo(
  config: Config,
  returnUrl: string,
  params: Readonly<Record<string, string | undefined>>,
): Response {
  const check = checkReturnUrl(returnUrl, config.returnOrigins);
  if (!check.ok) {
    throw new AppFailure("return_url_not_allowed", {
      connectionId: params.connectionId,
      detail: "The stored return address is no longer allowed.",
    });
  }
  return redirect(withParams(check.url, params).href, 303);
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
      ...(view.connectionId ? { connectionId: view.connectionId } : {}),
      ...(view.fields ? { fields: view.fields } : {}),
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
