import * as z from "zod/mini";
import { EMPTY_ALLOW_LIST, parseAllowedOrigin, parseAllowList } from "../security/return-url";
import { safeUrl } from "../security/url-scheme";
import { ZONES, type Zone } from "./types";

// Each variable has its own schema so that a failure names exactly one
// variable. Messages describe the rule, never the value: some are secrets.

const URL_RULE = "must be an absolute https URL (http only for localhost) without query or fragment";

/** https (http on loopback), no credentials, query or fragment. */
function plainUrl(s: string): boolean {
  const u = safeUrl(s);
  return !!u && !u.search && !u.hash;
}

/**
 * A string schema that checks `rules` in order, reports the first one broken,
 * and converts the value with `to` once all hold. Not z.pipe + z.transform:
 * those cost about 250 bytes gzip of bundle. Each rule aborts on failure, so
 * the overwrite check that converts runs only on a valid value.
 */
function parsed<T>(to: (s: string) => T, ...rules: [ok: (s: string) => boolean, error: string][]): z.ZodMiniType<T> {
  return z
    .string()
    .check(
      ...rules.map(([ok, error]) => z.refine<string>(ok, { error, abort: true })),
      z.overwrite(to as unknown as (s: string) => string),
    ) as unknown as z.ZodMiniType<T>;
}

function baseUrl(what: string) {
  return parsed(
    // No trailing slash, so paths can be appended with `new URL` semantics kept simple.
    (s) => new URL(s).href.replace(/\/+$/, ""),
    [plainUrl, `${URL_RULE}: ${what}`],
  );
}

export const apiUrlSchema = baseUrl("the partner API base, e.g. https://partner.peaka.studio/api/v1");
export const riveryApiUrlSchema = baseUrl("Rivery's API base, e.g. https://console.rivery.io/api");
export const callbackUrlSchema = baseUrl("Peaka's OAuth callback, e.g. https://peaka.studio/oauth2/callback");

export const zoneSchema = z.enum(ZONES, { error: `must be one of: ${ZONES.join(", ")}` });

export const modeSchema = z.enum(["relay", "exchange"], { error: "must be relay or exchange" });

export const pathSchema = z
  .string()
  .check(z.regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,255}$/, "must be a path starting with / (no query or fragment)"));

export const projectIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 _ -"));

export const apiKeySchema = z
  .string()
  .check(z.regex(/^[\x21-\x7e]{1,4096}$/, "must be printable ASCII without spaces"));

/** ADMIN_TOKEN and LINK_SIGNING_KEY: long enough that guessing is hopeless. */
export const entrySecretSchema = z
  .string()
  .check(
    z.regex(
      /^[\x21-\x7e]{32,4096}$/,
      "must be 32-4096 printable ASCII characters without spaces (e.g. the output of openssl rand -base64 32)",
    ),
  );

// The range is checked on the digits, not by z.number() with z.gte/z.lte:
// those checks cost about 170 bytes gzip of bundle for two variables.
function integer(min: number, max: number) {
  return parsed(Number, [
    (s) => /^\d{1,9}$/.test(s) && Number(s) >= min && Number(s) <= max,
    `must be a whole number from ${min} to ${max}`,
  ]);
}

export const ttlSchema = integer(60, 31_536_000);
/** Rivery refuses a validity_duration outside 300-43200 (and says so with a 429). */
export const riveryValiditySchema = integer(300, 43_200);

/**
 * WEBHOOK_RETRY_BASE_SECONDS: the first retry's delay; later ones double
 * (webhooks/consumer.ts). At most 300: the eighth retry waits 128 times it,
 * which must stay under the queue's 12-hour limit.
 */
export const retryBaseSchema = integer(1, 300);
export const timeoutSchema = integer(100, 60_000);

function list(s: string): string[] {
  return s
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

export const zoneByHostSchema = parsed(
  (s) => {
    const map = new Map<string, Zone>();
    for (const pair of list(s)) {
      const [host, zone] = pair.split("=") as [string, Zone];
      map.set(host.toLowerCase(), zone);
    }
    return map as ReadonlyMap<string, Zone>;
  },
  [
    (s) => list(s).every((pair) => /^[A-Za-z0-9.:-]+=(us|eu)$/.test(pair)),
    "must be comma-separated host=zone pairs, zone us or eu (e.g. connect.eu.example.com=eu)",
  ],
);

/** An entry that tries to be a wildcard, so that its problem is explained as one. */
const WILDCARD = /\*|%2a/i;

export const originsSchema = parsed(
  (s) => parseAllowList(list(s)) ?? EMPTY_ALLOW_LIST,
  [
    (s) => list(s).every((entry) => WILDCARD.test(entry) || parseAllowedOrigin(entry) !== undefined),
    "must be comma-separated origins such as https://app.example.com (https, or http://localhost / http://127.0.0.1 with a port)",
  ],
  [
    (s) => list(s).every((entry) => !WILDCARD.test(entry) || parseAllowedOrigin(entry) !== undefined),
    "has an invalid wildcard: write https://*.example.com (https only, one leading *. over at least two labels, an optional non-default port)",
  ],
);

/** One PUBLIC_ORIGINS entry as an origin: exact only, a wildcard names no host to answer on. */
function exactOrigin(entry: string): string | undefined {
  const parsed = parseAllowedOrigin(entry);
  return parsed?.kind === "exact" ? parsed.origin : undefined;
}

/** PUBLIC_ORIGINS: exact origins (no wildcard), https or http on loopback. */
export const publicOriginsSchema = parsed(
  (s) => new Set(list(s).map((entry) => exactOrigin(entry) as string)) as ReadonlySet<string>,
  [
    (s) => list(s).every((entry) => exactOrigin(entry) !== undefined),
    "must be comma-separated origins this deployment answers on, such as https://connect.example.com (https, or http://localhost / http://127.0.0.1; no wildcard)",
  ],
);

export const browserBindingSchema = z.enum(["required", "off"], { error: "must be required or off" });

/** WEBHOOK_URL: where the partner receives webhooks, kept as written. */
export const webhookUrlSchema = z.string().check(z.refine(plainUrl, URL_RULE));

/**
 * WEBHOOK_SECRET(_PREVIOUS): the Standard Webhooks format, whsec_ and the
 * base64 of the key. Kept as the raw key bytes' base64; webhooks/sign.ts imports it.
 */
export const webhookSecretSchema = parsed(
  (s) => s.slice(6),
  [(s) => /^whsec_(?:[A-Za-z0-9+/]{4}){6,}(?:[A-Za-z0-9+/]{2}[A-Za-z0-9+/=]=)?$/.test(s), "must be whsec_ + base64"],
);
