import { ConfigError } from "../config/load";
import { AppFailure } from "../failures/failure";
import { sha256Hex } from "../security/hash";
import { toBase64url } from "../security/seal";
import type { Deps } from "./deps";

/*
 * Browser binding. The first time a browser reaches the worker for a flow (a
 * signed start link, or the API's startUrl), it gets a fresh random token in a
 * cookie, and the flow's records keep only the token's SHA-256. Every later
 * step that could hand the flow to someone else (the relay and the exchange
 * before the authorization code leaves the worker, the completion before the
 * redirect) requires the same browser: the cookie whose hash the record holds.
 *
 * One cookie per flow, named after the first 16 hex digits of its hash, so
 * concurrent flows in one browser never overwrite each other.
 */

const COOKIE_PREFIX = "__Host-pce-";
const TOKEN_BYTES = 32;

/** A random token for a single-use URL or a binding: 256 bits, base64url. */
export function randomToken(): string {
  return toBase64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
}

function cookieName(browser: string): string {
  return `${COOKIE_PREFIX}${browser.slice(0, 16)}`;
}

function cookie(name: string, value: string, maxAgeSeconds: number): string {
  // __Host-: Secure, Path=/ and no Domain, so no subdomain can set or read it.
  // SameSite=None: a form_post callback is a cross-site POST from the
  // provider's page, and Lax would leave the cookie behind exactly there.
  // The binding does not rely on SameSite: it is a per-flow secret, checked
  // against the flow's record, that a cross-site request cannot forge.
  return `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/; Secure; HttpOnly; SameSite=None`;
}

export interface NewBinding {
  /** SHA-256 (hex) of the token: what the records keep. */
  readonly browser: string;
  /** The Set-Cookie header value that hands the token to the browser. */
  readonly setCookie: string;
  /** The token itself: a key only this browser holds (e.g. to seal a flow's data under). */
  readonly token: string;
}

/** A fresh binding for one flow, living as long as its records. */
export async function newBinding(deps: Deps): Promise<NewBinding> {
  const token = randomToken();
  const browser = await sha256Hex(token);
  return { browser, token, setCookie: cookie(cookieName(browser), token, deps.config.recordTtlSeconds) };
}

/** The bound browser's token from its cookie, if this request carries it. */
export function bindingToken(deps: Deps, browser: string): string | undefined {
  return deps.cookie(cookieName(browser));
}

/** Expires the flow's cookie once the flow is over. */
export function clearBinding(browser: string): string {
  return cookie(cookieName(browser), "", 0);
}

/**
 * Requires the browser bound to the flow (`browser`, from its record). With
 * BROWSER_BINDING=off, nothing is checked. Throws browser_mismatch (403)
 * before anything is spent or sent.
 */
export async function requireBrowser(deps: Deps, browser: string | undefined, connectionId?: string): Promise<void> {
  if (deps.config.browserBinding === "off") return;
  const token = browser === undefined ? undefined : deps.cookie(cookieName(browser));
  if (browser === undefined || token === undefined || (await sha256Hex(token)) !== browser) {
    deps.log.outcome = "browser_mismatch";
    throw new AppFailure("browser_mismatch", { connectionId });
  }
}

/**
 * The listed public origin this request came to: every URL the worker builds
 * for itself starts here. Unset PUBLIC_ORIGINS is config_invalid; an
 * unlisted host is misdirected_request (421), so a forged Host header never
 * becomes a callback URL.
 */
export function requirePublicOrigin(deps: Deps): string {
  if (deps.config.publicOrigins.size === 0) {
    throw new ConfigError([{ variable: "PUBLIC_ORIGINS", reason: "is not set" }]);
  }
  if (deps.publicOrigin === undefined) {
    throw new AppFailure("misdirected_request", { detail: "This host is not one of the service's PUBLIC_ORIGINS." });
  }
  return deps.publicOrigin;
}
