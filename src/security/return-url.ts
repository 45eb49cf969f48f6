/**
 * The one return-URL allow-list, used when a URL is written (start, API) and
 * again right before every redirect to it (a record written under an older
 * RETURN_ORIGINS must not outlive the operator's change). The configured
 * DEFAULT_RETURN_URL and ERROR_URL pass the same check.
 */

import { hasAllowedScheme } from "./url-scheme";

export const MAX_RETURN_URL_LENGTH = 2048;

export type ReturnUrlRejection =
  | "too_long"
  | "bad_character"
  | "unparseable"
  | "scheme"
  | "userinfo"
  | "authority"
  | "origin";

export type ReturnUrlCheck =
  | { readonly ok: true; readonly url: URL }
  | { readonly ok: false; readonly reason: ReturnUrlRejection };

/**
 * `https://*.example.com[:port]`: any one DNS label in front of `suffix`,
 * with exactly that scheme and port ("" for the scheme's default).
 */
export interface WildcardOrigin {
  readonly scheme: "https:";
  /** The part after `*.`, lower case, at least two labels: `example.com`. */
  readonly suffix: string;
  /** As URL.port: "" for the default port. */
  readonly port: string;
}

/** RETURN_ORIGINS, parsed: exact origins (URL.origin form) and one-label wildcards. */
export interface OriginAllowList {
  readonly exact: ReadonlySet<string>;
  readonly wildcards: readonly WildcardOrigin[];
}

export const EMPTY_ALLOW_LIST: OriginAllowList = { exact: new Set(), wildcards: [] };

// Printable ASCII only: rules out whitespace, tabs, CR/LF/NUL and every
// Unicode look-alike (ideographic dots, fullwidth letters) before the URL
// parser gets a chance to normalise them into something that looks allowed.
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** One DNS label: letters, digits and hyphens, no hyphen at either end, 1-63 characters (lower case). */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The authority exactly as written: what follows `scheme://` up to the first
 * `/`, `?` or `#` (backslashes are refused before this is asked).
 */
function writtenAuthority(input: string, protocol: string): string {
  const rest = input.slice(protocol.length + 2);
  const end = rest.search(/[/?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}

/**
 * The authority must be the parser's own serialisation of it, ASCII case
 * aside: a percent-encoded, Unicode (IDN, fullwidth) or numeric spelling of a
 * host, an explicit default port (`:443`), an empty or zero-padded port all
 * differ from `url.host` and are refused, so what is checked is what was
 * written.
 */
function canonicalAuthority(input: string, url: URL): boolean {
  return writtenAuthority(input, url.protocol).toLowerCase() === url.host;
}

/**
 * Whether the parsed URL's origin is one of the list's exact origins or
 * matches one of its wildcards. Meant for a URL whose authority was already
 * found canonical (checkReturnUrl does that first): the label a wildcard
 * matches is then the one written.
 */
export function originAllowed(list: OriginAllowList, url: URL): boolean {
  if (list.exact.has(url.origin)) return true;
  for (const w of list.wildcards) {
    if (url.protocol !== w.scheme || url.port !== w.port) continue;
    const host = url.hostname;
    if (!host.endsWith(`.${w.suffix}`)) continue;
    if (DNS_LABEL.test(host.slice(0, host.length - w.suffix.length - 1))) return true;
  }
  return false;
}

export function checkReturnUrl(input: string, allowList: OriginAllowList): ReturnUrlCheck {
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
  if (!canonicalAuthority(input, url)) return { ok: false, reason: "authority" };
  if (!originAllowed(allowList, url)) return { ok: false, reason: "origin" };
  return { ok: true, url };
}

/** One parsed RETURN_ORIGINS entry. */
export type AllowedOrigin =
  | { readonly kind: "exact"; readonly origin: string }
  | { readonly kind: "wildcard"; readonly wildcard: WildcardOrigin };

/**
 * Parses one RETURN_ORIGINS entry. Only a bare origin is accepted (no path,
 * query or credentials), https or a loopback http origin; or a wildcard
 * `https://*.example.com[:port]`: https only, one leading `*.` label over at
 * least two DNS labels, written in ASCII without a default port. Any other `*`
 * (`https://*.com`, `https://a.*.example.com`, `https://*example.com`) is refused.
 */
export function parseAllowedOrigin(entry: string): AllowedOrigin | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return undefined;
  }
  if (!hasAllowedScheme(url)) return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== "/" || !entry.toLowerCase().startsWith(`${url.protocol}//`)) return undefined;
  if (!url.hostname.includes("*")) return { kind: "exact", origin: url.origin };

  if (url.protocol !== "https:" || !PRINTABLE_ASCII.test(entry) || !canonicalAuthority(entry, url)) return undefined;
  if (!url.hostname.startsWith("*.")) return undefined;
  const suffix = url.hostname.slice(2);
  const labels = suffix.split(".");
  if (labels.length < 2 || !labels.every((label) => DNS_LABEL.test(label))) return undefined;
  // A suffix ending in a number would make the pattern match IPv4 addresses.
  if (!/^[a-z]/.test(labels[labels.length - 1] ?? "")) return undefined;
  return { kind: "wildcard", wildcard: { scheme: "https:", suffix, port: url.port } };
}

/** The allow-list of a whole RETURN_ORIGINS list, or undefined when an entry is invalid. */
export function parseAllowList(entries: readonly string[]): OriginAllowList | undefined {
  const exact = new Set<string>();
  const wildcards: WildcardOrigin[] = [];
  for (const entry of entries) {
    const parsed = parseAllowedOrigin(entry);
    if (parsed === undefined) return undefined;
    if (parsed.kind === "exact") exact.add(parsed.origin);
    else if (!wildcards.some((w) => w.suffix === parsed.wildcard.suffix && w.port === parsed.wildcard.port)) {
      wildcards.push(parsed.wildcard);
    }
  }
  return { exact, wildcards };
}
