import * as z from "zod/mini";
import { ZONES } from "../config/types";
import { type FailureCode, isFailureCode } from "../failures/codes";

// Values are JSON with a version field so a later release can read (or skip)
// records written by an earlier one during a rolling deploy. `expiresAt`
// (epoch ms) repeats the KV TTL so a record is refused the moment it expires,
// even where KV's own expiry lags.

const connectionId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/));
const zone = z.enum(ZONES);
// `v` is 1 through z.enum, not z.literal (about 110 bytes gzip more). The
// object form: zod reads an array's numeric entries as a TypeScript enum's
// reverse mapping and would drop the 1.
/**
 * Epoch ms: a finite number, as time accepts, through z.custom, which
 * the bundle has anyway (time is about 150 bytes gzip more).
 */
const time = z.custom<number>((value) => Number.isFinite(value));
const base = { v: z.enum({ v1: 1 }), expiresAt: time };
/**
 * The SHA-256 (hex) of the browser-binding token in the cookie of the browser
 * that started the flow; absent until a browser is bound (docs/flows.md).
 */
const browser = z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/)));

/** `cs_` + 18 random bytes in base64url: an identifier, not a secret. */
export const SESSION_ID = /^cs_[A-Za-z0-9_-]{24}$/;
const display = z.enum(["redirect", "popup"]);
/**
 * What a flow record keeps of its connect session, so the way back can sign
 * `sid` and `ref` and choose a popup page without reading the session first.
 * Absent on records written before sessions existed.
 */
const session = {
  sessionId: z.optional(z.string().check(z.regex(SESSION_ID))),
  reference: z.optional(z.string()),
  display: z.optional(display),
};

/** `conn:<connectionId>`: where the user started. Written by start, read and deleted by complete/exchange. */
export const ConnectionRecord = z.object({
  ...base,
  returnUrl: z.string(),
  zone,
  mode: z.enum(["relay", "exchange"]),
  createdAt: time,
  browser,
  ...session,
});
export type ConnectionRecord = z.infer<typeof ConnectionRecord>;

/**
 * `state:<sha256(state)>`: the connection a provider's `state` belongs to.
 * Carries the return URL and zone too, so the callback resolves the user's
 * way back with one read.
 */
export const StateRecord = z.object({
  ...base,
  connectionId,
  returnUrl: z.string(),
  zone,
  browser,
  ...session,
});
export type StateRecord = z.infer<typeof StateRecord>;

/**
 * A failure code as stored. A record written by a newer release may carry a
 * code this one does not know (a rolling deploy that adds one): it reads as
 * `peaka_rejected`, a defined failure, instead of an unknown string.
 */
// An overwrite check, not z.catch (about 4 KiB of zod) nor z.pipe + z.transform (about 250 bytes).
const storedFailure = z
  .string()
  .check(
    z.overwrite((code) => (isFailureCode(code) ? code : "peaka_rejected")),
  ) as unknown as z.ZodMiniType<FailureCode>;

/** `code:<sha256(code)>`: the outcome of an exchange, replayed for a repeated callback. */
export const OutcomeRecord = z.object({
  ...base,
  status: z.enum(["success", "fail"]),
  connectionId: z.optional(connectionId),
  returnUrl: z.optional(z.string()),
  error: z.optional(storedFailure),
  zone: z.optional(zone),
  /** A replay goes only to the browser the first answer went to. */
  browser,
  ...session,
});
export type OutcomeRecord = z.infer<typeof OutcomeRecord>;

/**
 * `nonce:<sha256(nonce)>`: a signed start link that has been used, kept until
 * the link expires so the same link cannot start a second connection.
 */
export const NonceRecord = z.object({
  ...base,
  usedAt: time,
});
export type NonceRecord = z.infer<typeof NonceRecord>;

/**
 * `begin:<sha256(token)>`: a `startUrl` handed out by the server API and not
 * yet opened. Opening it binds the browser and leads on to the consent
 * screen; the record is spent. With BROWSER_BINDING=required it is the only
 * record until then: the connection and state records are written when the
 * browser is bound, with its hash. The consent URL carries the provider's
 * `state`, so it is stored encrypted under a key derived from the token,
 * which only the startUrl holds.
 */
export const BeginRecord = z.object({
  ...base,
  connectionId,
  /** What the connection and state records will hold once a browser is bound. */
  returnUrl: z.string(),
  zone,
  mode: z.enum(["relay", "exchange"]),
  /** SHA-256 (hex) of the consent URL's `state`: the key of the state record to bind too. */
  stateHash: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  /** base64url(iv ‖ AES-GCM ciphertext) of the consent URL. */
  consent: z.string(),
  ...session,
});
export type BeginRecord = z.infer<typeof BeginRecord>;

/**
 * `sess:<sessionId>`: a connect session, for the status API and the
 * webhooks. Kept for SESSION_TTL_SECONDS from its last write, so it outlives
 * the flow records. Holds no code, state or token; `returnUrl` is kept for
 * the way back (popup target origin) and never answered by the status API.
 */
export const SessionRecord = z.object({
  ...base,
  sessionId: z.string().check(z.regex(SESSION_ID)),
  platform: z.enum(["peaka", "rivery"]),
  type: z.string(),
  zone,
  reference: z.optional(z.string()),
  display,
  returnUrl: z.string(),
  status: z.enum(["pending", "succeeded", "failed", "expired"]),
  connectionId: z.optional(connectionId),
  /** A failure code, or a provider's own error for a denial. */
  error: z.optional(z.string()),
  createdAt: time,
  completedAt: z.optional(time),
  /** Epoch ms after which a pending session reads as expired (core/connect-session.ts). */
  deadline: time,
  browser,
  /** A platform's own progress (e.g. ids it needs on the way back): never secrets. */
  platformData: z.optional(z.record(z.string(), z.string())),
});
export type SessionRecord = z.infer<typeof SessionRecord>;

/**
 * `seal:<sessionId>`: what a platform needs to finish a pending session
 * (Rivery: the pull and its auth_uri), AES-GCM sealed (security/seal.ts).
 * Lives until the session's deadline and is deleted when it settles.
 * - `begin`: SHA-256 of the startUrl's token while the startUrl is unopened
 *   (the data is sealed under that token);
 * - then, with a bound browser, sealed under the browser's binding token
 *   (its cookie), so KV alone never opens it; with BROWSER_BINDING=off,
 *   under `key`, kept beside it (no browser holds a secret then).
 */
export const SealedRecord = z.object({
  ...base,
  data: z.string(),
  begin: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  key: z.optional(z.string()),
});
export type SealedRecord = z.infer<typeof SealedRecord>;
