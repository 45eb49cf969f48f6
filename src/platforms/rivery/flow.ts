import { SESSIONS_PATH, WAIT_PATH } from "../../config/load";
import type { Zone } from "../../config/types";
import { bindingToken, newBinding, randomToken, requireBrowser, requirePublicOrigin } from "../../core/binding";
import {
  expireSession,
  newSessionId,
  openSession,
  readSession,
  settleSession,
  updateSession,
} from "../../core/connect-session";
import type { Deps } from "../../core/deps";
import type { SessionStatus } from "../../core/events";
import { flowReturn } from "../../core/result";
import { type AcceptedLink, failedStart, spendStartLink } from "../../core/start-link";
import type { Redirect } from "../../core/way-back";
import { AppFailure } from "../../failures/failure";
import { sha256Hex } from "../../security/hash";
import { seal, unseal } from "../../security/seal";
import type { SessionRecord } from "../../storage/records";
import { riveryAdapter, riveryTarget } from "./adapter";
import { createConnection, fetchCredentials } from "./client";
import { RiveryError } from "./errors";
import { credentialsReady } from "./ready";

/*
 * Rivery's flow (docs/rivery.md): start opens a pull and a session; the
 * startUrl binds the browser and shows the waiting page; the page's polls
 * ask Rivery for the credentials (at most every POLL_INTERVAL_MS per
 * session) and, once they are there, create the connection once and settle
 * the session. The credentials pass from Rivery's answer into the PUT body
 * and nowhere else. Failures thrown here reach the edge, which turns them
 * into wire codes (core/errors.ts).
 */

/** Rivery is asked for the credentials at most this often per session. */
export const POLL_INTERVAL_MS = 2000;

/** What the session needs to finish, sealed in KV: pull_id, auth_uri, connection_name. */
interface Pull {
  readonly p: string;
  readonly a: string;
  readonly n: string;
}

/**
 * The pull's own expiry, when pull_id is a JWS whose header carries `exp`
 * (Rivery's examples: `{"alg":"HS256","exp":…,"iat":…}`). The session's
 * deadline is the earlier of it and RIVERY_VALIDITY_SECONDS, so a pull Rivery
 * ends sooner ends the session sooner; anything else is ignored.
 */
export function pullExpiry(pullId: string): number | undefined {
  try {
    const { exp } = JSON.parse(atob((pullId.split(".")[0] ?? "").replaceAll("-", "+").replaceAll("_", "/")));
    return Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export interface RiveryStartInput {
  /** Made in advance by a signed link's start, so a failed start still has its session. */
  readonly sessionId?: string | undefined;
  readonly type: string;
  readonly name: string;
  readonly zone: Zone;
  readonly returnUrl: string;
  readonly reference?: string | undefined;
  readonly display?: "redirect" | "popup" | undefined;
}

/** `POST {api}/oauth2`, then the session and its startUrl (the waiting page). */
export async function startRivery(deps: Deps, input: RiveryStartInput) {
  const origin = requirePublicOrigin(deps);
  const created = await riveryAdapter.create(deps, input);
  const pull: Pull = { p: created.resume ?? "", a: created.consentUrl?.href ?? "", n: input.name };
  const deadline = Math.min(
    deps.clock.now() + deps.config.riveryValiditySeconds * 1000,
    pullExpiry(pull.p) ?? Number.POSITIVE_INFINITY,
  );
  // openSession takes only the fields it knows: the name and the pull are not stored in the session.
  const { sessionId } = await openSession(deps, { ...input, platform: "rivery", deadline });
  const token = randomToken();
  await deps.store.putSealed(
    sessionId,
    { data: await seal(JSON.stringify(pull), token), begin: await sha256Hex(token) },
    deadline,
  );
  const startUrl = new URL(WAIT_PATH, origin);
  startUrl.searchParams.set("s", sessionId);
  startUrl.searchParams.set("t", token);
  return { sessionId, startUrl: startUrl.href, zone: input.zone, expiresAt: deadline };
}

/**
 * A verified signed link for Rivery: spent, then the pull and the session,
 * and the browser goes on to the waiting page (which binds it). When Rivery
 * or KV fails, the user goes back to the signed return URL with the code.
 */
export async function startRiveryFromLink(deps: Deps, link: AcceptedLink): Promise<Redirect> {
  const { log } = deps;
  await spendStartLink(deps, link);
  // Made here so that a start that fails still has its session, settled failed.
  const session = { sessionId: newSessionId(), reference: link.reference, display: link.display };
  try {
    const { startUrl } = await startRivery(deps, { ...link, ...session });
    log.outcome = "redirected";
    return { location: startUrl, status: 303 };
  } catch (thrown) {
    return failedStart(deps, thrown, link, session, "rivery");
  }
}

async function readPull(sealed: string, key: string | undefined): Promise<Pull | undefined> {
  const text = key && (await unseal(sealed, key));
  return text ? (JSON.parse(text) as Pull) : undefined;
}

/** The seal's key once the startUrl was opened: the bound browser's cookie token, or the key kept beside it. */
function sealKey(deps: Deps, session: SessionRecord, key: string | undefined): string | undefined {
  return key ?? (session.browser && bindingToken(deps, session.browser));
}

async function riverySession(deps: Deps, sessionId: string, code: "link_invalid" | "unknown_connection") {
  // readSession answers undefined for a malformed id, so nothing else checks its shape.
  const session = await readSession(deps, sessionId);
  if (session?.platform !== "rivery") throw new AppFailure(code);
  return session;
}

export interface Waiting {
  /** Where the user authorises; absent once the session is over (the page only polls then). */
  readonly authUri?: string | undefined;
  readonly statusUrl: string;
  readonly setCookies?: readonly string[];
}

/**
 * Opens the startUrl. The first opening spends its token, binds this
 * browser (with BROWSER_BINDING=required) and re-seals the pull under the
 * browser's own token; a reload in the same browser shows the page again;
 * any other browser gets 403 browser_mismatch, an unknown or spent link 403
 * link_invalid.
 */
export async function openWaiting(deps: Deps, sessionId: string, token: string | null): Promise<Waiting> {
  const { store, log } = deps;
  const session = await riverySession(deps, sessionId, "link_invalid");
  const statusUrl = SESSIONS_PATH + sessionId;
  const sealed = session.status === "pending" ? await store.getSealed(sessionId) : undefined;
  if (sealed?.begin) {
    const pull = token && (await sha256Hex(token)) === sealed.begin && (await readPull(sealed.data, token));
    if (!pull) throw new AppFailure("link_invalid");
    log.outcome = "bound";
    if (deps.config.browserBinding === "off") {
      // No browser holds a secret to seal under: the key stays beside the data.
      await store.putSealed(sessionId, { data: sealed.data, key: token }, session.deadline);
      return { authUri: pull.a, statusUrl };
    }
    const binding = await newBinding(deps);
    await Promise.all([
      store.putSealed(sessionId, { data: await seal(JSON.stringify(pull), binding.token) }, session.deadline),
      updateSession(deps, sessionId, { browser: binding.browser }),
    ]);
    return { authUri: pull.a, statusUrl, setCookies: [binding.setCookie] };
  }
  await requireBrowser(deps, session.browser);
  log.outcome = "waiting";
  return { authUri: sealed && (await readPull(sealed.data, sealKey(deps, session, sealed.key)))?.a, statusUrl };
}

/** What the waiting page's poll answers. */
export interface SessionView {
  readonly status: SessionStatus;
  readonly connectionId?: string;
  /** Where the browser goes once the session is over: the return URL with the outcome and `result`. */
  readonly next?: string;
  /**
   * A popup session's outcome for the window that opened the waiting page:
   * `t` the allow-listed return URL's origin (the only target it is posted
   * to), `m` the message. Without an opener the page goes to `next`.
   */
  readonly popup?: { readonly t: string; readonly m: unknown };
}

// Concurrent polls of one session in this isolate share one round with
// Rivery. Across isolates and locations the session record's fields limit it.
const inflight = new Map<string, Promise<SessionRecord>>();

/**
 * `GET /oauth2/sessions/{sessionId}` for the bound browser: moves the
 * session on (credentials, connection, expiry) and answers its status.
 */
export async function pollSession(deps: Deps, sessionId: string): Promise<SessionView> {
  let session = await riverySession(deps, sessionId, "unknown_connection");
  await requireBrowser(deps, session.browser);
  if (session.status === "pending" || session.status === "expired") {
    let round = inflight.get(sessionId);
    if (!round) {
      round = advance(deps, session).finally(() => inflight.delete(sessionId));
      inflight.set(sessionId, round);
    }
    session = await round;
  }
  const { status, connectionId } = session;
  if (status === "pending") return { status };
  deps.log.outcome = status;
  const success = status === "succeeded";
  const error = success ? undefined : (session.error ?? (status === "expired" ? "expired" : "rivery_rejected"));
  deps.log.error = error;
  // With display "popup" the waiting page is itself the popup connect()
  // opened: it posts flowReturn's message to its opener, as the popup page
  // does for Peaka, and goes to `next` only when there is no opener.
  const back = await flowReturn(deps, session.returnUrl, {
    connectionId,
    status: success ? "success" : "fail",
    error,
    zone: session.zone,
    via: "exchange",
    session,
  });
  return {
    status,
    connectionId,
    next: back.location,
    ...(back.popup ? { popup: { t: back.popup.targetOrigin, m: back.popup.message } } : {}),
  };
}

/** Settles the session and forgets the pull (after the response). */
async function finish(
  deps: Deps,
  session: SessionRecord,
  outcome?: { status: "succeeded" | "failed"; connectionId?: string; error?: string },
): Promise<SessionRecord> {
  // No outcome: the poll found the session past its deadline. It ends as
  // `expired`, written and notified once like any other end.
  const settled = outcome
    ? await settleSession(deps, session.sessionId, outcome)
    : await expireSession(deps, session.sessionId);
  deps.defer("delete_sealed", deps.store.deleteSealed(session.sessionId));
  return settled ?? { ...session, ...outcome };
}

async function advance(deps: Deps, session: SessionRecord): Promise<SessionRecord> {
  const { log } = deps;
  const { sessionId } = session;
  if (session.status === "expired") return finish(deps, session);
  const now = deps.clock.now();
  const progress = session.platformData ?? {};
  // Throttled, or another poll is creating the connection: nothing to ask Rivery now.
  if (now - Number(progress.polledAt ?? 0) < POLL_INTERVAL_MS || progress.connecting) {
    log.outcome = "throttled";
    return session;
  }
  const sealed = await deps.store.getSealed(sessionId);
  const pull = sealed && !sealed.begin && (await readPull(sealed.data, sealKey(deps, session, sealed.key)));
  if (!pull) return session;
  const target = riveryTarget(deps, session.zone);
  // platformData holds strings: epoch ms, written as text.
  await updateSession(deps, sessionId, { platformData: { polledAt: String(now) } });
  try {
    const answer = await fetchCredentials(target, { pull_id: pull.p, auth_uri: pull.a });
    if (!credentialsReady(answer)) return session;
    // The marker first: a poll elsewhere that sees it does not create a second connection.
    await updateSession(deps, sessionId, { platformData: { connecting: String(now) } });
    const { _id } = await createConnection(target, {
      connection_type: session.type,
      connection_name: pull.n,
      credentials: answer.body,
    });
    log.connectionId = _id;
    return await finish(deps, session, { status: "succeeded", connectionId: _id });
  } catch (error) {
    if (!(error instanceof RiveryError)) throw error;
    log.cause = error.name;
    log.peakaStatus = error.status;
    // A credentials call that timed out or broke may pass: the next poll asks
    // again. The PUT is never retried: Rivery may have created the connection.
    if (error.step === "credentials" && (error.kind === "timeout" || error.kind === "network")) {
      log.degraded = error.code;
      return session;
    }
    return finish(deps, session, { status: "failed", error: error.code });
  }
}
