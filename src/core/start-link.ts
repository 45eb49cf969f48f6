import * as z from "zod/mini";
import { ConfigError } from "../config/load";
import type { Zone } from "../config/types";
import { AppFailure } from "../failures/failure";
import { causeName } from "../observability/log";
import { type StartLinkRejection, verifyStartLink } from "../security/start-link";
import { newBinding } from "./binding";
import { newSessionId, openSession } from "./connect-session";
import type { Deps } from "./deps";
import { isServiceFailure, platformStatusOf, toFailure } from "./errors";
import * as fields from "./fields";
import { allowedReturnUrl, chooseZone } from "./inputs";
import type { PlatformAdapter, PlatformName } from "./platform";
import { flowReturn } from "./result";
import { startSession } from "./session";
import { parseFields } from "./validate";
import type { Redirect } from "./way-back";

/** What a verified link may carry: the same rules as the server API. */
const LinkFields = z.object({
  type: fields.connectionType,
  name: fields.connectionName,
  returnUrl: fields.returnUrl,
  zone: z.optional(fields.zone),
  reference: z.optional(fields.reference),
  display: z.optional(fields.display),
  platform: z.optional(fields.platform),
});

/** A verified link, its fields checked, its nonce not yet spent. */
export interface AcceptedLink {
  readonly type: string;
  readonly name: string;
  readonly platform: PlatformName | undefined;
  /** Allowed by RETURN_ORIGINS. */
  readonly returnUrl: string;
  readonly zone: Zone;
  readonly reference: string | undefined;
  readonly display: "redirect" | "popup" | undefined;
  readonly nonce: string;
  readonly exp: number;
}

const REJECTION_DETAIL: Record<StartLinkRejection, string> = {
  malformed: "The link is malformed.",
  unexpected_parameter: "The link carries a parameter it was not signed with.",
  duplicate_parameter: "The link repeats a parameter.",
  missing_parameter: "The link is incomplete.",
  bad_signature: "The link's signature does not match.",
  expired: "The link is past its expiry time.",
  too_long_lived: "The link's expiry is further away than a link may live.",
};

/** The link key, or the failure that says why links are off. Checked before the rate limit is spent. */
export function linkSigningKey(deps: Deps): string {
  const key = deps.config.linkSigningKey;
  if (key.state === "unset") {
    throw new AppFailure("api_disabled", { detail: "Signed start links are not enabled on this deployment." });
  }
  if (key.state === "invalid") throw new ConfigError([key.problem]);
  return key.value;
}

/**
 * Verifies a link under LINK_SIGNING_KEY and, during a rotation, under
 * LINK_SIGNING_KEY_PREVIOUS: links handed out before the rotation stay good
 * until they expire (at most 15 minutes).
 */
async function verifyLink(deps: Deps, query: string) {
  const key = linkSigningKey(deps);
  const options = { now: deps.clock.now() };
  const check = await verifyStartLink(query, key, options);
  const { linkSigningKey: secret } = deps.config;
  if (check.ok || check.reason !== "bad_signature" || secret.state !== "set" || !secret.previous) return check;
  return verifyStartLink(query, secret.previous, options);
}

/** Verifies a signed "Connect" link (signature, expiry) and checks its fields; the edge picks the platform's way on. */
export async function acceptStartLink(deps: Deps, query: string): Promise<AcceptedLink> {
  const { config, log } = deps;
  const check = await verifyLink(deps, query);
  if (!check.ok) {
    log.outcome = `link_${check.reason}`;
    throw new AppFailure(check.reason === "expired" ? "link_expired" : "link_invalid", {
      detail: REJECTION_DETAIL[check.reason],
    });
  }
  const link = parseFields(LinkFields, check.link);
  const returnUrl = allowedReturnUrl(config, link.returnUrl);
  const zone = chooseZone(deps, link.zone);
  log.zone = zone;
  const { type, name, platform, reference, display } = link;
  return { type, name, platform, returnUrl, zone, reference, display, nonce: check.link.nonce, exp: check.link.exp };
}

/**
 * Spends the link before the platform is called, so a replayed link cannot
 * create a second connection. KV has no compare-and-set: two uses within
 * KV's propagation delay in different locations can both pass (docs/start.md).
 */
export async function spendStartLink(deps: Deps, link: AcceptedLink): Promise<void> {
  const { log, store, clock } = deps;
  try {
    if (await store.getNonce(link.nonce)) {
      log.outcome = "link_reused";
      throw new AppFailure("link_invalid", { detail: "This link has already been used." });
    }
    await store.putNonce(link.nonce, { usedAt: clock.now() }, link.exp - clock.now() / 1000);
  } catch (error) {
    throw toFailure(error);
  }
}

/**
 * A verified link's start that failed. When the platform or KV failed, the
 * user goes back to the signed return URL with the code, and the session
 * (made in advance, so a failed start still has one) is written settled
 * failed after the response: storage may be what failed. Anything else is
 * thrown, for the error page.
 */
export function failedStart(
  deps: Deps,
  thrown: unknown,
  link: AcceptedLink,
  session: { sessionId: string; reference: string | undefined; display: AcceptedLink["display"] },
  platform: PlatformName,
  browser?: string,
): Promise<Redirect> {
  const { log } = deps;
  const error = toFailure(thrown);
  if (!isServiceFailure(error)) throw error;
  const { code, connectionId } = error;
  log.error = code;
  log.cause = causeName(error);
  log.peakaStatus = platformStatusOf(error);
  log.outcome = "returned";
  deps.defer(
    "open_session",
    // openSession takes only its own fields of the link.
    openSession(deps, {
      ...link,
      ...session,
      platform,
      browser,
      settled: { status: "failed", connectionId, error: code },
    }),
  );
  return flowReturn(deps, link.returnUrl, {
    connectionId,
    status: "fail",
    error: code,
    zone: link.zone,
    via: "exchange",
    session,
  });
}

/**
 * A verified link for a platform whose consent URL the browser goes to
 * directly: spent, then the session starts and the browser goes on to the
 * consent screen.
 */
export async function startFromLink(deps: Deps, adapter: PlatformAdapter, link: AcceptedLink): Promise<Redirect> {
  const { config, log } = deps;
  const { returnUrl, zone } = link;
  if (config.mode === "exchange") {
    // Exchange mode needs the OAuth app's client secret in the create call,
    // and a link in a browser must never carry one.
    throw new AppFailure("invalid_request", {
      detail: "In exchange mode connections start through the server API, which carries the OAuth app's credentials.",
    });
  }
  await spendStartLink(deps, link);

  // The link is this flow's first touch: the browser that opened it is bound now.
  const binding = config.browserBinding === "required" ? await newBinding(deps) : undefined;
  // Made here so that a start that fails still has its session, settled failed.
  const session = { sessionId: newSessionId(), reference: link.reference, display: link.display };
  let started: Awaited<ReturnType<typeof startSession>>;
  try {
    started = await startSession(deps, adapter, {
      type: link.type,
      name: link.name,
      returnUrl,
      zone,
      browser: binding?.browser,
      ...session,
    });
  } catch (error) {
    // The return URL is signed and allowed: a user whose connection could
    // not be created (or whose records could not be stored) goes back to the
    // application, which can offer a retry.
    return failedStart(deps, error, link, session, adapter.platform, binding?.browser);
  }
  if (started.consentUrl) {
    log.outcome = "redirected";
    return { location: started.consentUrl, status: 303, ...(binding ? { setCookies: [binding.setCookie] } : {}) };
  }
  // A type that needs no consent is connected already.
  log.outcome = "returned";
  return flowReturn(deps, returnUrl, {
    connectionId: started.connectionId,
    status: "success",
    zone,
    via: "exchange",
    session,
  });
}
