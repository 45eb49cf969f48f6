import type { Config } from "../config/types";
import { AppFailure } from "../failures/failure";
import { checkReturnUrl } from "../security/return-url";
import type { PRODUCT } from "../version";

/** Where the browser goes next: the edge turns it into a Location header. 307 repeats the method and body. */
export interface Redirect {
  readonly location: string;
  readonly status: 303 | 307;
  /** Set-Cookie header values: a new browser binding, or one that is over. */
  readonly setCookies?: readonly string[];
  /**
   * A popup flow's way back (display "popup"): the page posts `message` to
   * its opener at `targetOrigin` (the return URL's origin, never "*"), and
   * falls back to `location` without an opener.
   */
  readonly popup?: { readonly targetOrigin: string; readonly message: PopupMessage };
}

/** What a popup page posts to its opener: the return URL's outcome, with the session. */
export interface PopupMessage {
  readonly source: typeof PRODUCT;
  readonly sessionId: string;
  readonly connectionId?: string | undefined;
  readonly status: "success" | "fail";
  readonly error?: string | undefined;
  readonly result?: string | undefined;
}

/** What the return URL learns: the outcome's parameters, undefined ones left out. */
export type ReturnParams = Readonly<Record<string, string | undefined>>;

/**
 * Adds parameters to a return URL. The existing query is kept byte for byte
 * (a partner's own signed or encoded parameters survive); only when it already
 * holds one of our names are those values replaced through URLSearchParams.
 */
export function withParams(url: URL, params: ReturnParams): URL {
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
 * A stored or configured return URL, checked against RETURN_ORIGINS again
 * right before use: a record written under an older allow-list must not
 * become an open redirect.
 */
export function allowedReturnTarget(config: Config, returnUrl: string, connectionId: string | undefined): URL {
  const check = checkReturnUrl(returnUrl, config.returnOrigins);
  if (!check.ok) {
    throw new AppFailure("return_url_not_allowed", {
      connectionId,
      detail: "The stored return address is no longer allowed.",
    });
  }
  return check.url;
}

/** Sends the browser back to a stored or configured return URL with the outcome's parameters. */
export function returnTo(config: Config, returnUrl: string, params: ReturnParams): Redirect {
  const target = allowedReturnTarget(config, returnUrl, params.connectionId);
  return { location: withParams(target, params).href, status: 303 };
}
