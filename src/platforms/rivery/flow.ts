import { SESSIONS_PATH, WAIT_PATH } from "../../config/load";
import type { Zone } from "../../config/types";
import { bindingToken, newBinding, randomToken, requireBrowser, requirePublicOrigin } from "../../core/binding";
import { openSession, readSession, settleSession, updateSession } from "../../core/connect-session";
import type { Deps } from "../../core/deps";
import { isServiceFailure, platformStatusOf, toFailure } from "../../core/errors";
import type { SessionStatus } from "../../core/events";
import { flowReturn } from "../../core/result";
import { type AcceptedLink, spendStartLink } from "../../core/start-link";
import type { Redirect } from "../../core/way-back";
import { AppFailure } from "../../failures/failure";
import { causeName } from "../../observability/log";
import { sha256Hex } from "../../security/hash";
import { seal, unseal } from "../../security/seal";
import { SESSION_ID, type SessionRecord } from "../../storage/records";
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
 * and nowhere else.
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
    const header = JSON.parse(atob((pullId.split(".")[0] ?? "").replaceAll("-", "+").replaceAll("_", "/")));
    return typeof header?.exp === "number" && Number.isFinite(header.exp) ? header.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export interface RiveryStartInput {
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
  let created: Awaited<ReturnType<typeof riveryAdapter.create>>;
  try {
    created = await riveryAdapter.create(deps, input);
  } catch (error) {
    throw toFailure(error);
  }
  const pull: Pull = { p: created.resume ?? "", a: created.consentUrl?.href ?? "", n: input.name };
  const now = deps.clock.now();
  const deadline = Math.min(now + deps.config.riveryValiditySeconds * 1000, pullExpiry(pull.p) ?? Infinity);
  const session = await openSession(deps, {
    platform: "rivery",
    type: input.type,
    zone: input.zone,
    returnUrl: input.returnUrl,
    reference: input.reference,
    display: input.display,
    deadline,
  });
  const { sessionId } = session;
  const token = randomToken();
  try {
    await deps.store.putSealed(
      sessionId,
      { data: await seal(JSON.stringify(pull), token), begin: await sha256Hex(token) },
      deadline,
    );
  } catch (error) {
    throw toFailure(error);
  }
  const startUrl = new URL(WAIT_PATH, origin);
  startUrl.searchParams.set("s", sessionId);
  startUrl.searchParams.set("t", token);
  return { sessionId, startUrl: startUrl.href, zone: input.zone, expiresAt: deadline };
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

async function readPull(sealed: string, key: string | undefined): Promise<Pull | undefined> {
  const text = key === undefined ? undefined : await unseal(sealed, key);
  return text === undefined ? undefined : (JSON.parse(text) as Pull);
}

async function riverySession(deps: Deps, sessionId: string, failure: () => AppFailure): Promise<SessionRecord> {
  const session = SESSION_ID.test(sessionId) ? await readSession(deps, sessionId) : undefined;
  if (session?.platform !== "rivery") throw failure();
  return session;
}

export interface Waiting {
  readonly sessionId: string;
  /** Where the user authorises; absent once the session is over (the page only polls then). */
  readonly authUri?: string;
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
  const invalid = () => new AppFailure("link_invalid", { detail: "This start address is unknown, used or expired." });
  const statusUrl = `${SESSIONS_PATH}${sessionId}`;
  try {
    const session = await riverySession(deps, sessionId, invalid);
    const sealed = session.status === "pending" ? await deps.store.getSealed(sessionId) : undefined;
    if (sealed?.begin !== undefined) {
      if (token === null || !TOKEN.test(token) || (await sha256Hex(token)) !== sealed.begin) throw invalid();
      const pull = await readPull(sealed.data, token);
      if (!pull) throw invalid();
      if (deps.config.browserBinding === "off") {
        // No browser holds a secret to seal under: the key stays beside the data.
        await deps.store.putSealed(sessionId, { data: sealed.data, key: token }, session.deadline);
        deps.log.outcome = "waiting";
        return { sessionId, authUri: pull.a, statusUrl };
      }
      const binding = await newBinding(deps);
      const data = await seal(JSON.stringify(pull), binding.token);
      await Promise.all([
        deps.store.putSealed(sessionId, { data }, session.deadline),
        updateSession(deps, sessionId, { browser: binding.browser }),
      ]);
      deps.log.outcome = "bound";
      return { sessionId, authUri: pull.a, statusUrl, setCookies: [binding.setCookie] };
    }
    await requireBrowser(deps, session.browser);
    const key = sealed?.key ?? (session.browser ? bindingToken(deps, session.browser) : undefined);
    const pull = sealed ? await readPull(sealed.data, key) : undefined;
    deps.log.outcome = "waiting";
    return { sessionId, ...(pull ? { authUri: pull.a } : {}), statusUrl };
  } catch (error) {
    throw toFailure(error);
  }
}

/** What the waiting page's poll answers. */
export interface SessionView {
  readonly status: SessionStatus;
  readonly connectionId?: string;
  /** Where the browser goes once the session is over: the return URL with the outcome and `result`. */
  readonly next?: string;
}

// Concurrent polls of one session in this isolate share one round with
// Rivery. Across isolates and locations the KV fields below limit it.
const inflight = new Map<string, Promise<SessionRecord>>();

/**
 * `GET /oauth2/sessions/{sessionId}` for the bound browser: moves the
 * session on (credentials, connection, expiry) and answers its status.
 */
export async function pollSession(deps: Deps, sessionId: string): Promise<SessionView> {
  const unknown = () => new AppFailure("unknown_connection", { detail: "This session is unknown or over." });
  let session: SessionRecord;
  try {
    session = await riverySession(deps, sessionId, unknown);
  } catch (error) {
    throw toFailure(error);
  }
  await requireBrowser(deps, session.browser);
  if (session.status === "pending" || session.status === "expired") {
    let round = inflight.get(sessionId);
    if (!round) {
      round = advance(deps, session).finally(() => inflight.delete(sessionId));
      inflight.set(sessionId, round);
    }
    session = await round;
  }
  return view(deps, session);
}

async function view(deps: Deps, session: SessionRecord): Promise<SessionView> {
  const { status, connectionId } = session;
  if (status === "pending") return { status };
  deps.log.outcome = status;
  const success = status === "succeeded";
  const error = success ? undefined : (session.error ?? (status === "expired" ? "expired" : "rivery_rejected"));
  if (error) deps.log.error = error;
  // Popup display: once src/edge/popup-page.ts is on main, `next` for a
  // popup session is the page that posts the outcome to the opener; until
  // then the popup itself goes to the return URL.
  const back = await flowReturn(deps, session.returnUrl, {
    connectionId,
    status: success ? "success" : "fail",
    error,
    zone: session.zone,
    via: "exchange",
  });
  return { status, ...(connectionId ? { connectionId } : {}), next: back.location };
}

/** Settles the session and forgets the pull (after the response). */
async function finish(
  deps: Deps,
  session: SessionRecord,
  outcome: { status: "succeeded" | "failed" | "expired"; connectionId?: string; error?: string },
): Promise<SessionRecord> {
  const settled = await settleSession(deps, session.sessionId, outcome);
  deps.defer("delete_sealed", deps.store.deleteSealed(session.sessionId));
  return settled ?? { ...session, ...outcome };
}

async function advance(deps: Deps, session: SessionRecord): Promise<SessionRecord> {
  const { log, clock, store } = deps;
  const { sessionId } = session;
  try {
    if (session.status === "expired") return await finish(deps, session, { status: "expired", error: "expired" });
    const now = clock.now();
    const progress = session.platformData ?? {};
    const polledAt = progress.polledAt;
    // Throttled, or another poll is creating the connection: nothing to ask Rivery now.
    if ((typeof polledAt === "number" && now - polledAt < POLL_INTERVAL_MS) || progress.connecting !== undefined) {
      log.outcome = "throttled";
      return session;
    }
    const sealed = await store.getSealed(sessionId);
    if (!sealed || sealed.begin !== undefined) return session;
    const key = sealed.key ?? (session.browser ? bindingToken(deps, session.browser) : undefined);
    const pull = await readPull(sealed.data, key);
    if (!pull) return await finish(deps, session, { status: "failed", error: "internal_error" });
    const target = riveryTarget(deps, session.zone);
    await updateSession(deps, sessionId, { platformData: { ...progress, polledAt: now } });
    let answer: Awaited<ReturnType<typeof fetchCredentials>>;
    try {
      answer = await fetchCredentials(target, { pull_id: pull.p, auth_uri: pull.a });
    } catch (error) {
      if (!(error instanceof RiveryError)) throw error;
      log.cause = error.name;
      log.peakaStatus = error.platformStatus;
      // A timeout or a broken connection may pass: the next poll asks again.
      if (error.kind === "timeout" || error.kind === "network") {
        log.degraded = error.code;
        return session;
      }
      return await finish(deps, session, { status: "failed", error: error.code });
    }
    if (!credentialsReady(answer)) {
      log.outcome = "pending";
      return session;
    }
    // The marker first: a poll elsewhere that sees it does not create a second connection.
    await updateSession(deps, sessionId, { platformData: { ...progress, polledAt: now, connecting: now } });
    try {
      const connection = await createConnection(target, {
        connection_type: session.type,
        connection_name: pull.n,
        credentials: answer.body,
      });
      log.connectionId = connection._id;
      return await finish(deps, session, { status: "succeeded", connectionId: connection._id });
    } catch (error) {
      if (!(error instanceof RiveryError)) throw error;
      log.cause = error.name;
      log.peakaStatus = error.platformStatus;
      // Not retried even on a timeout: Rivery may have created it, and one PUT per session is the rule.
      return await finish(deps, session, { status: "failed", error: error.code });
    }
  } catch (error) {
    if (!(error instanceof AppFailure)) log.cause ??= causeName(error);
    throw toFailure(error);
  }
}

/**
 * A verified signed link for Rivery: spent, then the pull and the session,
 * and the browser goes on to the waiting page (which binds it). When Rivery
 * or KV fails, the user goes back to the signed return URL with the code.
 */
export async function startRiveryFromLink(deps: Deps, link: AcceptedLink): Promise<Redirect> {
  await spendStartLink(deps, link);
  try {
    const started = await startRivery(deps, link);
    deps.log.outcome = "redirected";
    return { location: started.startUrl, status: 303 };
  } catch (error) {
    if (!isServiceFailure(error)) throw error;
    deps.log.error = error.code;
    deps.log.cause = causeName(error);
    deps.log.peakaStatus = platformStatusOf(error);
    deps.log.outcome = "returned";
    return flowReturn(deps, link.returnUrl, { status: "fail", error: error.code, zone: link.zone, via: "exchange" });
  }
}
