/**
 * The one return-URL allow-list, used when a URL is written (start, API) and
 * again right before every redirect to it (a record written under an older
 * RETURN_ORIGINS must not outlive the operator's change).
 */

import { hasAllowedScheme } from "./url-scheme";

export const MAX_RETURN_URL_LENGTH = 2048;

export type ReturnUrlRejection = "too_long" | "bad_character" | "unparseable" | "scheme" | "userinfo" | "origin";

export type ReturnUrlCheck =
  | { readonly ok: true; readonly url: URL }
  | { readonly ok: false; readonly reason: ReturnUrlRejection };

// Printable ASCII only: rules out whitespace, tabs, CR/LF/NUL and every
// Unicode look-alike (ideographic dots, fullwidth letters) before the URL
// parser gets a chance to normalise them into something that looks allowed.
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export function checkReturnUrl(input: string, allowedOrigins: ReadonlySet<string>): ReturnUrlCheck {
  if (input.length > MAX_RETURN_URL_LENGTH) return { ok: false, reason: "too_long" };
  if (!PRINTABLE_ASCII.test(input) || input.includes("\\")) {
    return { ok: false, reason: "bad_character" };
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, reason: "unparseable" };
  }
  if (!hasAllowedScheme(url)) {
    return { ok: false, reason: "scheme" };
  }
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "userinfo" };
  // `https:evil.com` and `https:/evil.com` parse to https://evil.com; insisting
  // on the literal `scheme://` prefix rejects those spellings outright.
  if (!input.toLowerCase().startsWith(`${url.protocol}//`)) return { ok: false, reason: "unparseable" };
  if (!allowedOrigins.has(url.origin)) return { ok: false, reason: "origin" };
  return { ok: true, url };
}

/**
 * Parses one RETURN_ORIGINS entry. Only a bare origin is accepted (no path,
 * query or credentials), https or a loopback http origin.
 */
export function parseAllowedOrigin(entry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return undefined;
  }
  if (!hasAllowedScheme(url)) return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== "/" || !entry.toLowerCase().startsWith(`${url.protocol}//`)) return undefined;
  return url.origin;
}
