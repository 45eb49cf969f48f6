import type { CallbackMode, Zone } from "../config/types";
import type { FailureCode } from "../failures/codes";
import { AppFailure } from "../failures/failure";
import type { OutcomeRecord, StateRecord } from "../storage/records";
import type { Deps } from "./deps";
import { toFailure } from "./errors";
import type { CreateInput, PlatformAdapter, Warning } from "./platform";
import { type Redirect, type ReturnParams, returnTo } from "./way-back";

/*
 * A connect session's lifecycle, whatever the platform:
 *
 *   started ──(records written)──▶ pending ──┬─▶ succeeded
 *                                            ├─▶ failed
 *                                            └─▶ expired (the records' TTL)
 *
 * The core owns the records in KV (where the user started, keyed by
 * connection id and by the OAuth `state`; the outcome of a callback keyed by
 * its code) and the way back to the return URL. Adapters create connections
 * and interpret the platform's callbacks; they never touch KV themselves.
 */

export interface StartInput extends CreateInput {
  /** Already checked against RETURN_ORIGINS. */
  readonly returnUrl: string;
}

export interface StartedSession {
  readonly connectionId: string;
  /** Absent for credential types that need no consent (option 1). */
  readonly consentUrl?: string;
  readonly zone: Zone;
  /** When the stored records expire (epoch ms). */
  readonly expiresAt: number;
  readonly warnings: readonly Warning[];
}

/** A callback's result, fresh or replayed: what the way back needs. */
export interface Outcome {
  readonly status: "success" | "fail";
  readonly connectionId?: string | undefined;
  readonly returnUrl?: string | undefined;
  readonly error?: FailureCode | undefined;
}

/**
 * Writes what the callbacks need: the connection record, and the state
 * record when the consent URL carries `state`. At most two writes, in
 * parallel, awaited: the user may be back from the provider within seconds.
 */
async function remember(
  deps: Deps,
  connectionId: string,
  record: { returnUrl: string; zone: Zone; mode: CallbackMode },
  consentUrl: URL | undefined,
): Promise<number> {
  const { store, clock } = deps;
  const state = consentUrl?.searchParams.get("state") ?? undefined;
  try {
    const [expiresAt] = await Promise.all([
      store.putConnection(connectionId, { ...record, createdAt: clock.now() }),
      state ? store.putState(state, { connectionId, returnUrl: record.returnUrl, zone: record.zone }) : undefined,
    ]);
    return expiresAt;
  } catch (error) {
    // The platform may already hold the connection: name it, so it can be traced.
    throw toFailure(error, connectionId);
  }
}

/**
 * Starts a session: the adapter creates the connection, then the core
 * remembers where the user started. Throws AppFailure (bad input, the
 * platform's failure under its wire code, storage_unavailable) or ConfigError.
 */
export async function startSession(deps: Deps, adapter: PlatformAdapter, input: StartInput): Promise<StartedSession> {
  let created: Awaited<ReturnType<PlatformAdapter["create"]>>;
  try {
    created = await adapter.create(deps, input);
  } catch (error) {
    throw toFailure(error);
  }
  const { connectionId, consentUrl } = created;
  deps.log.connectionId = connectionId;
  const expiresAt = await remember(
    deps,
    connectionId,
    { returnUrl: input.returnUrl, zone: input.zone, mode: deps.config.mode },
    consentUrl,
  );
  return {
    connectionId,
    ...(consentUrl ? { consentUrl: consentUrl.href } : {}),
    zone: input.zone,
    expiresAt,
    warnings: created.warnings,
  };
}

/**
 * For partners who call the platform themselves: only remember where the
 * user started. Given the consent URL the platform returned, the state
 * record is written too, so the callbacks can resolve the user's way back.
 */
export async function registerReturn(
  deps: Deps,
  adapter: PlatformAdapter,
  input: { connectionId: string; returnUrl: string; zone: Zone; consentUrl?: string | undefined },
): Promise<Omit<StartedSession, "consentUrl">> {
  const { connectionId, zone } = input;
  const consentUrl = input.consentUrl === undefined ? undefined : new URL(input.consentUrl);
  const expiresAt = await remember(
    deps,
    connectionId,
    { returnUrl: input.returnUrl, zone, mode: deps.config.mode },
    consentUrl,
  );
  const warnings = consentUrl ? adapter.checkConsentUrl(deps, zone, consentUrl, connectionId) : [];
  return { connectionId, zone, expiresAt, warnings };
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
  let record: Awaited<ReturnType<typeof store.getConnection>>;
  try {
    record = await store.getConnection(connectionId);
  } catch (error) {
    throw toFailure(error, connectionId);
  }
  if (record) {
    log.zone = record.zone;
    log.mode = record.mode;
    log.outcome = "returned";
    const redirect = returnTo(config, record.returnUrl, { connectionId, status });
    deps.defer("delete_connection", store.deleteConnection(connectionId));
    return redirect;
  }
  if (config.defaultReturnUrl) {
    log.outcome = "fallback";
    return returnTo(config, config.defaultReturnUrl, { connectionId, status });
  }
  throw new AppFailure("unknown_connection", { connectionId });
}

/** The stored outcome of a callback whose code was seen before. Throws StorageError when KV fails. */
export function priorOutcome(deps: Deps, code: string): Promise<OutcomeRecord | undefined> {
  return deps.store.getOutcome(code);
}

/** Remembers a callback's outcome by its code, after the response, so a repeated callback gets the same answer. */
export function saveOutcome(deps: Deps, code: string, outcome: Outcome): void {
  deps.defer("save_outcome", deps.store.putOutcome(code, outcome));
}

/**
 * The way back for a connection the platform confirmed: the state record
 * when it names the same connection, else the connection record (spent
 * after the response).
 */
export async function returnUrlFor(
  deps: Deps,
  record: StateRecord | undefined,
  connectionId: string,
): Promise<string | undefined> {
  let returnUrl: string | undefined;
  if (record?.connectionId === connectionId) returnUrl = record.returnUrl;
  else {
    try {
      returnUrl = (await deps.store.getConnection(connectionId))?.returnUrl;
    } catch (error) {
      throw toFailure(error, connectionId);
    }
  }
  deps.defer("delete_connection", deps.store.deleteConnection(connectionId));
  return returnUrl;
}

/** Turns an outcome (fresh or replayed) into the user's redirect, or throws the failure to show. */
export function finishOutcome(deps: Deps, outcome: Outcome): Redirect {
  const { config, log } = deps;
  if (outcome.connectionId) log.connectionId = outcome.connectionId;
  if (outcome.status === "fail") log.error = outcome.error;
  const params: ReturnParams = { connectionId: outcome.connectionId, status: outcome.status, error: outcome.error };
  if (outcome.returnUrl) {
    log.outcome ??= "returned";
    return returnTo(config, outcome.returnUrl, params);
  }
  if (outcome.status === "success" && config.defaultReturnUrl) {
    log.outcome ??= "fallback";
    return returnTo(config, config.defaultReturnUrl, params);
  }
  // A failed outcome always carries its code; one without is corrupt data, not a user's fault.
  const code: FailureCode = outcome.status === "success" ? "unknown_connection" : (outcome.error ?? "internal_error");
  throw new AppFailure(code, { connectionId: outcome.connectionId });
}
