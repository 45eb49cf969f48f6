import { BEGIN_PATH } from "../config/load";
import type { CallbackMode, Zone } from "../config/types";
import { AppFailure } from "../failures/failure";
import { sha256Hex } from "../security/hash";
import { seal, unseal } from "../security/seal";
import { newBinding, randomToken, requirePublicOrigin } from "./binding";
import { linkOf, type SessionLink } from "./connect-session";
import type { Deps } from "./deps";
import { toFailure } from "./errors";
import type { Redirect } from "./way-back";

export interface PendingSession extends SessionLink {
  readonly connectionId: string;
  readonly consentUrl: string;
  readonly returnUrl: string;
  readonly zone: Zone;
  readonly mode: CallbackMode;
}

/**
 * A single-use URL on the worker for a session the server API started: the
 * browser's first touch. The consent URL is stored sealed under a key
 * derived from the URL's token, so KV alone never reveals the provider's
 * `state`. Resolves to the URL and the record's expiry (epoch ms).
 */
export async function createStartUrl(deps: Deps, session: PendingSession): Promise<{ url: string; expiresAt: number }> {
  const origin = requirePublicOrigin(deps);
  const token = randomToken();
  const state = new URL(session.consentUrl).searchParams.get("state");
  let expiresAt: number;
  try {
    expiresAt = await deps.store.putBegin(token, {
      connectionId: session.connectionId,
      returnUrl: session.returnUrl,
      zone: session.zone,
      mode: session.mode,
      ...(state !== null ? { stateHash: await sha256Hex(state) } : {}),
      consent: await seal(session.consentUrl, token),
      ...linkOf(session),
    });
  } catch (error) {
    throw toFailure(error, session.connectionId);
  }
  const url = new URL(BEGIN_PATH, origin);
  url.searchParams.set("t", token);
  return { url: url.href, expiresAt };
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Opens a startUrl: spends it and sends the browser on to the consent
 * screen. With BROWSER_BINDING=required it binds this browser first: a
 * cookie, and the connection and state records written with its hash. A
 * second opening, another browser included, finds nothing: 403 link_invalid.
 * KV has no atomic read-and-delete: two openings within KV's propagation
 * delay in different locations can both pass, and the later binding wins
 * (docs/kv-schema.md).
 */
export async function beginSession(deps: Deps, token: string | null): Promise<Redirect> {
  const { store, log, clock } = deps;
  const invalid = () => new AppFailure("link_invalid", { detail: "This start address is unknown, used or expired." });
  if (token === null || !TOKEN.test(token)) throw invalid();
  try {
    const begin = await store.getBegin(token);
    if (!begin) throw invalid();
    log.connectionId = begin.connectionId;
    log.zone = begin.zone;
    const consentUrl = await unseal(begin.consent, token);
    if (consentUrl === undefined) throw invalid();
    if (deps.config.browserBinding === "off") {
      // The records were written when the session started; nothing to bind.
      await store.deleteBegin(token);
      log.outcome = "redirected";
      return { location: consentUrl, status: 303 };
    }
    const binding = await newBinding(deps);
    const { connectionId, returnUrl, zone, mode, stateHash } = begin;
    const link = linkOf(begin);
    await Promise.all([
      store.deleteBegin(token),
      store.putConnection(connectionId, {
        returnUrl,
        zone,
        mode,
        createdAt: clock.now(),
        browser: binding.browser,
        ...link,
      }),
      stateHash
        ? store.putStateByHash(stateHash, { connectionId, returnUrl, zone, browser: binding.browser, ...link })
        : undefined,
    ]);
    log.outcome = "bound";
    return { location: consentUrl, status: 303, setCookies: [binding.setCookie] };
  } catch (error) {
    throw toFailure(error);
  }
}
