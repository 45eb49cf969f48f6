import type { Context } from "hono";
import * as z from "zod/mini";
import { ConfigError } from "../config/load";
import * as fields from "../connections/fields";
import { allowedReturnUrl, chooseZone } from "../connections/inputs";
import { startConnection } from "../connections/start";
import { parseFields } from "../connections/validate";
import type { AppEnv } from "../http/context";
import { AppFailure, type FailureCode } from "../http/failures";
import { causeName } from "../http/log";
import { rawQuery } from "../http/query";
import { redirect, returnTo } from "../http/respond";
import { peakaStatusOf } from "../peaka/errors";
import { enforceRateLimit } from "../security/rate-limit";
import { type StartLinkRejection, verifyStartLink } from "../security/start-link";
import { Store } from "../store/store";

/** Failures after the link was verified that send the user back to its return URL. */
const RETURNABLE_FAILURES: ReadonlySet<FailureCode> = new Set([
  "peaka_unavailable",
  "peaka_rejected",
  "storage_unavailable",
]);

/** What a verified link may carry: the same rules as the server API. */
const LinkFields = z.object({
  type: fields.connectionType,
  name: fields.connectionName,
  returnUrl: fields.returnUrl,
  zone: z.optional(fields.zone),
});

const REJECTION_DETAIL: Record<StartLinkRejection, string> = {
  malformed: "The link is malformed.",
  unexpected_parameter: "The link carries a parameter it was not signed with.",
  duplicate_parameter: "The link repeats a parameter.",
  missing_parameter: "The link is incomplete.",
  bad_signature: "The link's signature does not match.",
  expired: "The link is past its expiry time.",
  too_long_lived: "The link's expiry is further away than a link may live.",
};

/**
 * `GET /oauth2/start`: a signed "Connect" link. Verified (signature, expiry,
 * once only), then the connection is created in Peaka and the browser goes
 * on to the consent screen with a 303.
 */
export async function start(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const log = c.get("log");
  log.route = "start";
  log.mode = config.mode;
  // Hono routes HEAD to GET handlers; a HEAD (a link prefetcher, a monitor)
  // must never spend the link or create a connection.
  if (c.req.method === "HEAD") throw new AppFailure("method_not_allowed", { headers: { Allow: "GET" } });

  const key = config.linkSigningKey;
  if (key.state === "unset") {
    throw new AppFailure("api_disabled", { detail: "Signed start links are not enabled on this deployment." });
  }
  if (key.state === "invalid") throw new ConfigError([key.problem]);

  await enforceRateLimit(c, "START_RATE_LIMITER", c.req.header("cf-connecting-ip") ?? "unknown");

  const check = await verifyStartLink(rawQuery(c.req.url), key.value);
  if (!check.ok) {
    log.outcome = `link_${check.reason}`;
    throw new AppFailure(check.reason === "expired" ? "link_expired" : "link_invalid", {
      detail: REJECTION_DETAIL[check.reason],
    });
  }
  const link = parseFields(LinkFields, check.link);
  const returnUrl = allowedReturnUrl(config, link.returnUrl);
  if (config.mode === "exchange") {
    // Exchange mode needs the OAuth app's client secret in the create call,
    // and a link in a browser must never carry one.
    throw new AppFailure("invalid_request", {
      detail: "In exchange mode connections start through the server API, which carries the OAuth app's credentials.",
    });
  }
  const zone = chooseZone(c, link.zone);
  log.zone = zone;

  const store = new Store(c.env.CONNECTIONS, config.recordTtlSeconds);
  // Spent before Peaka is called, so a replayed link cannot create a second
  // connection. KV has no compare-and-set: two uses within KV's propagation
  // delay in different locations can both pass (see docs/start.md).
  if (await store.getNonce(check.link.nonce)) {
    log.outcome = "link_reused";
    throw new AppFailure("link_invalid", { detail: "This link has already been used." });
  }
  await store.putNonce(check.link.nonce, { usedAt: Date.now() }, check.link.exp - Date.now() / 1000);

  let started: Awaited<ReturnType<typeof startConnection>>;
  try {
    started = await startConnection(c, { type: link.type, name: link.name, returnUrl, zone });
  } catch (error) {
    // The return URL is signed and allowed: a user whose connection Peaka
    // could not create (or whose records could not be stored) goes back to
    // the application, which can offer a retry.
    if (error instanceof AppFailure && RETURNABLE_FAILURES.has(error.code)) {
      log.error = error.code;
      log.cause = causeName(error);
      log.peakaStatus = peakaStatusOf(error);
      log.outcome = "returned";
      return returnTo(config, returnUrl, { connectionId: error.connectionId, status: "fail", error: error.code });
    }
    throw error;
  }
  if (started.consentUrl) {
    log.outcome = "redirected";
    return redirect(started.consentUrl, 303);
  }
  // A type that needs no consent is connected already.
  log.outcome = "returned";
  return returnTo(config, returnUrl, { connectionId: started.connectionId, status: "success" });
}
