import type { Zone } from "../config/types";
import { toBase64url } from "../security/seal";
import { SESSION_ID, type SessionRecord } from "../storage/records";
import type { Deps } from "./deps";
import type { SessionEvent } from "./events";
import type { PlatformName } from "./platform";

/*
 * The connect session: one record per start (`sess:<sessionId>`), whatever
 * the platform, that the status API answers and whose settling raises the
 * one webhook event.
 *
 *   openSession ──▶ pending ──settleSession──▶ succeeded | failed
 *                      └── past `deadline` ──▶ reads as expired (no write, no event)
 *
 * KV has no compare-and-set: settling is read-then-write, so two settles of
 * one session within KV's propagation delay in different locations can both
 * see it pending and both notify. Webhook receivers de-duplicate (at least
 * once); within one location a session settles and notifies once.
 */

export type Display = "redirect" | "popup";
export type { SessionRecord };

/** How a session ends. `error`: a failure code, or a provider's own error for a denial. */
export interface SessionSettlement {
  readonly status: "succeeded" | "failed";
  readonly connectionId?: string | undefined;
  readonly error?: string | undefined;
}

export interface SessionInit {
  /** Made in advance (newSessionId) when the flow records are written beside the session. */
  readonly sessionId?: string | undefined;
  readonly platform: PlatformName;
  readonly type: string;
  readonly zone: Zone;
  /** Already checked against RETURN_ORIGINS. */
  readonly returnUrl: string;
  readonly reference?: string | undefined;
  readonly display?: Display | undefined;
  readonly connectionId?: string | undefined;
  readonly browser?: string | undefined;
  /** Epoch ms after which a pending session has expired; default now + RECORD_TTL_SECONDS (the flow records' life). */
  readonly deadline?: number | undefined;
  readonly platformData?: SessionRecord["platformData"];
  /** A session that ends where it starts (connected without consent, or the platform failed): written settled, and notified. */
  readonly settled?: SessionSettlement | undefined;
}

/** Platform progress while a session is pending. */
export interface SessionPatch {
  readonly connectionId?: string | undefined;
  readonly browser?: string | undefined;
  readonly platformData?: SessionRecord["platformData"];
}

/** What a flow record (conn:, state:, begin:, code:) keeps of its session: the way back needs no session read. */
export interface SessionLink {
  readonly sessionId?: string | undefined;
  readonly reference?: string | undefined;
  readonly display?: Display | undefined;
}

/** The session fields of a flow record, to copy onto the next record or into the way back. */
export function linkOf(record: SessionLink | undefined): SessionLink {
  return { sessionId: record?.sessionId, reference: record?.reference, display: record?.display };
}

/** `cs_` + 18 random bytes, base64url (24 characters). */
export function newSessionId(): string {
  return `cs_${toBase64url(crypto.getRandomValues(new Uint8Array(18)))}`;
}

type Fields = Omit<SessionRecord, "v" | "expiresAt">;

/**
 * Writes a session; a terminal one is notified. Only a new session or a
 * pending one is ever written (rewrite), so a terminal write is the
 * session's one transition and notifies once.
 */
async function write(deps: Deps, record: Fields): Promise<SessionRecord> {
  const expiresAt = await deps.store.putSession(record.sessionId, record);
  const written: SessionRecord = { v: 1, ...record, expiresAt };
  notify(deps, written);
  return written;
}

/** Rewrites a pending session with `change`; a terminal one (expired included) is left as it is. */
async function rewrite(
  deps: Deps,
  sessionId: string,
  change: (fields: Fields) => Fields,
): Promise<SessionRecord | undefined> {
  const current = await readSession(deps, sessionId);
  if (current?.status !== "pending") return current;
  const { v: _v, expiresAt: _e, ...fields } = current;
  return write(deps, change(fields));
}

function settled(record: Fields, outcome: SessionSettlement, now: number): Fields {
  return {
    ...record,
    status: outcome.status,
    connectionId: outcome.connectionId ?? record.connectionId,
    error: outcome.status === "failed" ? outcome.error : undefined,
    completedAt: now,
  };
}

function notify(deps: Deps, record: SessionRecord): void {
  const { sessionId, connectionId, platform, type, zone, status, error, reference } = record;
  if (status === "pending") return;
  deps.notify({
    type: status === "succeeded" ? "connection.succeeded" : "connection.failed",
    at: record.completedAt ?? deps.clock.now(),
    data: { sessionId, connectionId, platform, type, zone, status, error, reference },
  } satisfies SessionEvent);
}

/**
 * Writes a new session (pending, or settled and notified at once). Takes
 * only the fields it knows from `init`, so a caller may pass a whole start
 * input: a credential in it is never stored. Throws StorageError when KV fails.
 */
export async function openSession(deps: Deps, init: SessionInit): Promise<SessionRecord> {
  const now = deps.clock.now();
  const { sessionId = newSessionId(), platform, type, zone, returnUrl, reference, display = "redirect" } = init;
  const { connectionId, browser, platformData, settled: outcome } = init;
  const deadline = init.deadline ?? now + deps.config.recordTtlSeconds * 1000;
  const record: Fields = {
    ...{ sessionId, platform, type, zone, returnUrl, reference, display, connectionId, browser, platformData },
    status: "pending",
    createdAt: now,
    deadline,
  };
  return write(deps, outcome ? settled(record, outcome, now) : record);
}

/** A pending session past its deadline reads as expired. */
function withDeadline(record: SessionRecord, now: number): SessionRecord {
  return record.status === "pending" && record.deadline <= now ? { ...record, status: "expired" } : record;
}

/** The session, with its deadline applied; undefined for an unknown or malformed id. Throws StorageError when KV fails. */
export async function readSession(deps: Deps, sessionId: string): Promise<SessionRecord | undefined> {
  if (!SESSION_ID.test(sessionId)) return undefined;
  const record = await deps.store.getSession(sessionId);
  return record && withDeadline(record, deps.clock.now());
}

/**
 * Ends a pending session and notifies once. A session already terminal
 * (expired included) is left as it is, and nothing is notified: the first
 * outcome stands. Resolves to the session as it now reads (undefined when it
 * is unknown).
 */
export function settleSession(
  deps: Deps,
  sessionId: string,
  outcome: SessionSettlement,
): Promise<SessionRecord | undefined> {
  return rewrite(deps, sessionId, (fields) => settled(fields, outcome, deps.clock.now()));
}

/**
 * A flow that saw its session run out (a platform's poll past the deadline)
 * ends it like any other outcome: written `expired` with error `expired`, and
 * notified once (a `connection.failed` webhook). An expiry nobody observes
 * stays a read-time state (readSession): there is no cron to raise it.
 */
export async function expireSession(deps: Deps, sessionId: string): Promise<SessionRecord | undefined> {
  const now = deps.clock.now();
  const current = await deps.store.getSession(sessionId);
  if (current?.status !== "pending" || current.deadline > now) return current && withDeadline(current, now);
  const { v: _v, expiresAt: _e, ...fields } = current;
  return write(deps, { ...fields, status: "expired", error: "expired", completedAt: now });
}

/** Records platform progress on a pending session; a terminal one is left as it is. */
export function updateSession(deps: Deps, sessionId: string, patch: SessionPatch): Promise<SessionRecord | undefined> {
  const { connectionId, browser, platformData } = patch;
  return rewrite(deps, sessionId, (fields) => ({
    ...fields,
    connectionId: connectionId ?? fields.connectionId,
    browser: browser ?? fields.browser,
    platformData: platformData ? { ...fields.platformData, ...platformData } : fields.platformData,
  }));
}

/**
 * Settles the session a flow record names with the flow's outcome (as the
 * return URL says it), after the response: the user's way back never waits
 * on it, and a KV failure is only logged.
 */
export function settleLater(
  deps: Deps,
  sessionId: string | undefined,
  status: "success" | "fail",
  connectionId: string | undefined,
  error?: string | undefined,
): void {
  if (sessionId) {
    const outcome = { status: status === "success" ? "succeeded" : "failed", connectionId, error } as const;
    deps.defer("settle_session", settleSession(deps, sessionId, outcome));
  }
}
