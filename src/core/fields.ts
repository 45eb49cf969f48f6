import * as z from "zod/mini";
import { ZONES } from "../config/types";
import { PLATFORM_NAMES } from "./platform";

// Field rules shared by the server API and signed start links, so a
// connection is held to the same rules whichever way it starts. Messages
// state the rule and never echo the value (a credential may be in it).

export const connectionType = z
  .string({ error: "must be a string" })
  .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be a connection type such as google_analytics"));

export const connectionName = z
  .string({ error: "must be a string" })
  .check(z.regex(/^\P{Cc}{1,128}$/u, "must be 1-128 characters without control characters"));

export const zone = z.enum(ZONES, { error: `must be one of: ${ZONES.join(", ")}` });

/** Which platform the connection is made in; omitted, the first (Peaka). */
export const platform = z.enum(PLATFORM_NAMES, { error: `must be one of: ${PLATFORM_NAMES.join(", ")}` });

/** Length only: the allow-list (security/return-url.ts) runs separately, so its reason can be reported. */
export const returnUrl = z.string({ error: "must be a string" });

const CREDENTIAL_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_CREDENTIAL_ENTRIES = 32;

/**
 * One credential value. Lengths by regex, not z.minLength/z.maxLength: the
 * same rule (UTF-16 units, as String.length counts) without zod's length
 * checks in the bundle; the OpenAPI document restates them as minLength and
 * maxLength (edge/routes/api/spec.ts).
 */
export const credentialValue = z
  .string({ error: "must be a string" })
  .check(z.regex(/^[\s\S]/, "must not be empty"), z.regex(/^[\s\S]{0,8192}$/, "must be at most 8192 characters"));

/**
 * A provider credential: string values only, passed to the platform and nowhere
 * else (never logged, stored or echoed).
 */
export const credential = z
  .record(z.string().check(z.regex(CREDENTIAL_KEY, "keys must be identifiers such as clientId")), credentialValue, {
    error: "must be an object of string values",
  })
  .check(
    z.refine(
      (value) => Object.keys(value).length <= MAX_CREDENTIAL_ENTRIES,
      `must have at most ${MAX_CREDENTIAL_ENTRIES} entries`,
    ),
  );

/** The partner's own key for the session (its user or tenant): opaque, short, printable ASCII. */
export const reference = z
  .string({ error: "must be a string" })
  .check(z.regex(/^[\x20-\x7e]{1,256}$/, "must be 1-256 printable ASCII characters"));

/** How the flow ends in the browser: a redirect to the return URL, or a page that posts to the opener. */
export const display = z.enum(["redirect", "popup"], { error: "must be redirect or popup" });
