import type { CallbackMode, Zone } from "../config/types";
import type { FailureCode } from "../failures/codes";
import { AppFailure } from "../failures/failure";
import type { OutcomeRecord, StateRecord } from "../storage/records";
import { createStartUrl } from "./begin";
import { requireBrowser } from "./binding";
import {
  type Display,
  linkOf,
  newSessionId,
  openSession,
  type SessionInit,
  type SessionLink,
  settleLater,
} from "./connect-session";
import type { Deps } from "./deps";
import { failing } from "./errors";
import type { CreateInput, PlatformAdapter, Warning } from "./platform";
import { flowReturn, type Via } from "./result";
import { type Redirect, returnTo } from "./way-back";

/*
 * A connect session's lifecycle, whatever the platform:
 *
 *   started ──(records written)──▶ pending ──┬─▶ succeeded
 *                                            ├─▶ failed
 *                                            └─▶ expired (the records' TTL)
 *
 * Every start opens a connect session (core/connect-session.ts) beside the
 * flow records, which name it; every terminal outcome settles it.
 *
 * The core owns the records in KV (where the user started, keyed by
 * connection id and by the OAuth `state`; the outcome of a callback keyed by
 * its code) and the way back to the return URL. Adapters create connections
 * and interpret the platform's callbacks; they never touch KV themselves.
 */

export interface StartInput extends CreateInput {
  /** Already checked against RETURN_ORIGINS. */
  readonly returnUrl: string;
  /** The bound browser's hash, when the start itself binds it (a signed link). */
  readonly browser?: string | undefined;
  /** Made in advance when the caller needs it before the session is written (a signed link's failure). */
  readonly sessionId?: string | undefined;
  readonly reference?: string | undefined;
  readonly display?: Display | undefined;
}

export interface StartedSession {
  readonly sessionId: string;
  readonly connectionId: string;
  /** Absent for credential types that need no consent (option 1). */
  readonly consentUrl?: string;
  /** The browser's first stop on the worker (the server API's starts): it binds the browser. */
  readonly startUrl?: string;
  readonly zone: Zone;
  /** When the stored records expire (epoch ms). */
  readonly expiresAt: number;
  readonly warnings: readonly Warning[];
}

/** A callback's result, fresh or replayed: what the way back needs. */
export interface Outcome extends SessionLink {
  readonly status: "success" | "fail";
  readonly connectionId?: string | undefined;
  readonly returnUrl?: string | undefined;
  readonly error?: FailureCode | undefined;
  readonly zone?: Zone | undefined;
  /** The browser the flow was bound to: a replay goes to it alone. */
  readonly browser?: string | undefined;
}

/**
 * Writes what the callbacks need: the connection record, the state record
 * when the consent URL carries `state`, and the session they name. At most
 * three writes, in parallel, awaited: the user may be back from the provider
 * within seconds.
 */
async function remember(
  deps: Deps,
  connectionId: string,
  record: { returnUrl: string; zone: Zone; mode: CallbackMode; browser?: string | undefined },
  consentUrl: URL | undefined,
  session: SessionInit & { sessionId: string },
): Promise<number> {
  const { store, clock } = deps;
  const state = consentUrl?.searchParams.get("state") ?? undefined;
  const { returnUrl, zone, browser } = record;
  const link = linkOf(session);
  const [expiresAt] = await failing(
    Promise.all([
      store.putConnection(connectionId, { ...record, ...link, createdAt: clock.now() }),
      state ? store.putState(state, { connectionId, returnUrl, zone, browser, ...link }) : undefined,
      openSession(deps, session),
    ]),
    // The platform may already hold the connection: name it, so it can be traced.
    connectionId,
  );
  return expiresAt;
}

async function create(deps: Deps, adapter: PlatformAdapter, input: StartInput) {
  const created = await failing(adapter.create(deps, input));
  const { connectionId } = created;
  // These flows keep their records by connection id: a platform that names none here has its own flow.
  if (connectionId === undefined) throw new AppFailure("internal_error");
  deps.log.connectionId = connectionId;
  return { ...created, connectionId };
}

/**
 * Starts a session: the adapter creates the connection, then the core
 * remembers where the user started. Throws AppFailure (bad input, the
 * platform's failure under its wire code, storage_unavailable) or ConfigError.
 */
export async function startSession(deps: Deps, adapter: PlatformAdapter, input: StartInput): Promise<StartedSession> {
  const { connectionId, consentUrl, warnings } = await create(deps, adapter, input);
  const { returnUrl, zone, browser } = input;
  const session = sessionInit(adapter, input, connectionId, consentUrl === undefined);
  const expiresAt = await remember(
    deps,
    connectionId,
    { returnUrl, zone, mode: deps.config.mode, browser },
    consentUrl,
    session,
  );
  const { sessionId } = session;
  return { sessionId, connectionId, consentUrl: consentUrl?.href, zone, expiresAt, warnings };
}

/** The session a start opens; `connected`: the platform needs no consent, so it has succeeded already. */
function sessionInit(
  adapter: PlatformAdapter,
  input: Omit<StartInput, "name" | "type"> & { type?: string | undefined },
  connectionId: string,
  connected: boolean,
): SessionInit & { sessionId: string } {
  return {
    // openSession takes only its own fields: the credential stays behind.
    ...input,
    type: input.type ?? "unknown",
    sessionId: input.sessionId ?? newSessionId(),
    platform: adapter.platform,
    connectionId,
    settled: connected ? { status: "succeeded", connectionId } : undefined,
  };
}

/**
 * What a session with a browser step needs once the platform has the
 * connection: with a consent URL, a `startUrl`, where the browser goes
 * first. With BROWSER_BINDING=required the consent URL is not handed out and
 * the session's records are written only when a browser opens the startUrl
 * and is bound (core/begin.ts); until then the startUrl's record is the only
 * one. Without a consent URL (option 1) there is nothing to bind.
 */
async function rememberForBrowser(
  deps: Deps,
  flow: {
    connectionId: string;
    returnUrl: string;
    zone: Zone;
    consentUrl: URL | undefined;
    warnings: readonly Warning[];
    session: SessionInit & { sessionId: string };
  },
): Promise<StartedSession> {
  const { connectionId, returnUrl, zone, consentUrl, warnings, session } = flow;
  const { sessionId } = session;
  const mode = deps.config.mode;
  const bound = deps.config.browserBinding === "required";
  const pending = consentUrl
    ? { connectionId, consentUrl: consentUrl.href, returnUrl, zone, mode, ...linkOf(session) }
    : undefined;
  let startUrl: string | undefined;
  let expiresAt: number;
  if (bound && pending) {
    const [start] = await failing(
      Promise.all([createStartUrl(deps, pending), openSession(deps, session)]),
      connectionId,
    );
    ({ url: startUrl, expiresAt } = start);
  } else {
    expiresAt = await remember(deps, connectionId, { returnUrl, zone, mode }, consentUrl, session);
    if (pending) startUrl = (await createStartUrl(deps, pending)).url;
  }
  // Bound, the consent URL is not handed out: the browser must go through startUrl.
  return {
    sessionId,
    connectionId,
    startUrl,
    consentUrl: bound ? undefined : pending?.consentUrl,
    zone,
    expiresAt,
    warnings,
  };
}

/** The server API's start: the platform creates the connection, then the way to the browser (rememberForBrowser). */
export async function startWithStartUrl(
  deps: Deps,
  adapter: PlatformAdapter,
  input: StartInput,
): Promise<StartedSession> {
  const { connectionId, consentUrl, warnings } = await create(deps, adapter, input);
  const session = sessionInit(adapter, input, connectionId, consentUrl === undefined);
  const { returnUrl, zone } = input;
  return rememberForBrowser(deps, { connectionId, returnUrl, zone, consentUrl, warnings, session });
}

/**
 * For partners who call the platform themselves: only remember where the
 * user started. Given the consent URL the platform returned, the answer has
 * a startUrl and the callbacks can resolve the way back by its `state`.
 */
export async function registerReturn(
  deps: Deps,
  adapter: PlatformAdapter,
  input: {
    connectionId: string;
    returnUrl: string;
    zone: Zone;
    consentUrl?: string | undefined;
    /** The connection's type, when the partner says it; the session reads "unknown" otherwise. */
    type?: string | undefined;
    reference?: string | undefined;
    display?: Display | undefined;
  },
): Promise<StartedSession> {
  const { connectionId, zone, returnUrl } = input;
  const consentUrl = input.consentUrl === undefined ? undefined : new URL(input.consentUrl);
  const warnings = consentUrl ? adapter.checkConsentUrl(deps, zone, consentUrl, connectionId) : [];
  // Never connected already: the partner's user still has Peaka's consent ahead.
  const session = sessionInit(adapter, input, connectionId, false);
  return rememberForBrowser(deps, { connectionId, returnUrl, zone, consentUrl, warnings, session });
}

/** The session a callback's `state` belongs to. Throws StorageError when KV fails. */
export function sessionForState(deps: Deps, state: string): Promise<StateRecord | undefined> {
  return deps.store.getState(state);
}

/**
 * The platform redirected back with its verdict: send the user to where the
 * session started, and spend the record once the redirect is on its way.
 * Without a record, DEFAULT_RETURN_URL if set, else unknown_connection.
 */
export async function completeSession(
  deps: Deps,
  verdict: { connectionId: string; status: "success" | "fail" },
): Promise<Redirect> {
  const { config, store, log } = deps;
  const { connectionId, status } = verdict;
  log.connectionId = connectionId;
  const record = await failing(store.getConnection(connectionId), connectionId);
  if (record) {
    log.zone = record.zone;
    log.mode = record.mode;
    if (record.mode === "exchange") {
      // An exchange-mode flow ends at the callback, where the worker hears the
      // outcome from the platform's API; the platform never redirects here. A
      // completion for one is made up, even in its own browser: nothing is spent.
      throw new AppFailure("unknown_connection", {
        connectionId,
        detail: "This connection finishes at the OAuth callback, not here.",
      });
    }
    // Before anything is spent: another browser gets 403 and the record stays.
    await requireBrowser(deps, record.browser, connectionId);
    log.outcome = "returned";
    // Before the way back is checked: the platform's verdict stands even if the return URL no longer does.
    settleLater(deps, record.sessionId, status, connectionId, status === "fail" ? "connection_failed" : undefined);
    const redirect = await flowReturn(deps, record.returnUrl, {
      connectionId,
      status,
      // The platform says only "fail"; the return URL and the result name it as one code.
      error: status === "fail" ? "connection_failed" : undefined,
      zone: record.zone,
      via: "redirect",
      // The record is spent with this answer: the flow's cookie can go too.
      endsBinding: record.browser,
      session: record,
    });
    deps.defer("delete_connection", store.deleteConnection(connectionId));
    return redirect;
  }
  if (config.defaultReturnUrl) {
    // No record: not a flow this worker can vouch for, so never a signed `result`.
    log.outcome = "fallback";
    return returnTo(config, config.defaultReturnUrl, { connectionId, status });
  }
  throw new AppFailure("unknown_connection", { connectionId });
}

/** The stored outcome of a callback whose code was seen before. Throws StorageError when KV fails. */
export function priorOutcome(deps: Deps, code: string): Promise<OutcomeRecord | undefined> {
  return deps.store.getOutcome(code);
}

/** Remembers a callback's outcome by its code, after the response, so a repeated callback gets the same answer (in the same browser). */
export function saveOutcome(deps: Deps, code: string, outcome: Outcome): void {
  deps.defer("save_outcome", deps.store.putOutcome(code, outcome));
}

/**
 * The way back for a connection the platform confirmed, with its session:
 * the state record when it names the same connection, else the connection
 * record (spent after the response).
 */
export async function returnUrlFor(
  deps: Deps,
  record: StateRecord | undefined,
  connectionId: string,
): Promise<SessionLink & { returnUrl?: string | undefined }> {
  const found: (SessionLink & { returnUrl: string }) | undefined =
    record?.connectionId === connectionId
      ? record
      : await failing(deps.store.getConnection(connectionId), connectionId);
  deps.defer("delete_connection", deps.store.deleteConnection(connectionId));
  return { returnUrl: found?.returnUrl, ...linkOf(found) };
}

/**
 * Turns an outcome (fresh or replayed) into the user's redirect, or throws
 * the failure to show. `via` says how the worker learned it (core/result.ts).
 */
export async function finishOutcome(deps: Deps, outcome: Outcome, via: Via): Promise<Redirect> {
  const { config, log } = deps;
  if (outcome.connectionId) log.connectionId = outcome.connectionId;
  if (outcome.status === "fail") log.error = outcome.error;
  if (outcome.returnUrl) {
    log.outcome ??= "returned";
    return flowReturn(deps, outcome.returnUrl, {
      connectionId: outcome.connectionId,
      status: outcome.status,
      error: outcome.error,
      zone: outcome.zone,
      via,
      // The cookie stays: a repeated callback in this browser gets this answer again.
      session: outcome,
    });
  }
  if (outcome.status === "success" && config.defaultReturnUrl) {
    log.outcome ??= "fallback";
    const params = { connectionId: outcome.connectionId, status: outcome.status };
    return returnTo(config, config.defaultReturnUrl, params);
  }
  // A failed outcome always carries its code; one without is corrupt data, not a user's fault.
  const code: FailureCode = outcome.status === "success" ? "unknown_connection" : (outcome.error ?? "internal_error");
  throw new AppFailure(code, { connectionId: outcome.connectionId });
}
