import type { Zone } from "../config/types";
import { toBase64url } from "../security/seal";
import type { SessionRecord } from "../storage/records";
import type { Deps } from "./deps";
import { toFailure } from "./errors";
import type { PlatformName } from "./platform";

/*
 * Connect sessions (docs/plan: the "sessions" helper owns this module). This
 * is the minimal subset the Rivery flow builds on, with the plan's
 * signatures; the sessions branch's version replaces it at merge.
 */

export interface SessionInit {
  readonly platform: PlatformName;
  readonly type: string;
  readonly zone: Zone;
  readonly returnUrl: string;
  readonly reference?: string | undefined;
  readonly display?: "redirect" | "popup" | undefined;
  readonly deadline: number;
  readonly browser?: string | undefined;
  readonly platformData?: SessionRecord["platformData"];
}

type Stored = Omit<SessionRecord, "v" | "expiresAt">;

function newSessionId(): string {
  return `cs_${toBase64url(crypto.getRandomValues(new Uint8Array(18)))}`;
}

async function write(deps: Deps, record: Stored): Promise<SessionRecord> {
  try {
    const expiresAt = await deps.store.putSession(record.sessionId, record);
    return { v: 1, expiresAt, ...record };
  } catch (error) {
    throw toFailure(error);
  }
}

export function openSession(deps: Deps, init: SessionInit): Promise<SessionRecord> {
  const { platformData, reference, browser, ...rest } = init;
  return write(deps, {
    ...rest,
    sessionId: newSessionId(),
    display: init.display ?? "redirect",
    status: "pending",
    createdAt: deps.clock.now(),
    ...(reference !== undefined ? { reference } : {}),
    ...(browser !== undefined ? { browser } : {}),
    ...(platformData !== undefined ? { platformData } : {}),
  });
}

/** The session, with its deadline applied: pending past it reads `expired`. */
export async function readSession(deps: Deps, sessionId: string): Promise<SessionRecord | undefined> {
  let record: SessionRecord | undefined;
  try {
    record = await deps.store.getSession(sessionId);
  } catch (error) {
    throw toFailure(error);
  }
  if (record?.status === "pending" && deps.clock.now() > record.deadline) return { ...record, status: "expired" };
  return record;
}

/** Platform progress on a pending session. */
export async function updateSession(
  deps: Deps,
  sessionId: string,
  patch: Partial<Pick<Stored, "browser" | "platformData" | "connectionId">>,
): Promise<SessionRecord | undefined> {
  const record = await readSession(deps, sessionId);
  if (!record) return undefined;
  const { v: _v, expiresAt: _e, ...rest } = record;
  return write(deps, { ...rest, ...patch });
}

/** Writes the terminal status once; the first transition from pending notifies. */
export async function settleSession(
  deps: Deps,
  sessionId: string,
  outcome: { status: "succeeded" | "failed"; connectionId?: string | undefined; error?: string | undefined },
): Promise<SessionRecord | undefined> {
  let record: SessionRecord | undefined;
  try {
    record = await deps.store.getSession(sessionId);
  } catch (error) {
    throw toFailure(error);
  }
  if (record?.status !== "pending") return record;
  const { v: _v, expiresAt: _e, platformData: _p, ...rest } = record;
  const now = deps.clock.now();
  const settled = await write(deps, {
    ...rest,
    status: outcome.status,
    ...(outcome.connectionId !== undefined ? { connectionId: outcome.connectionId } : {}),
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    completedAt: now,
  });
  deps.notify({
    type: outcome.status === "succeeded" ? "connection.succeeded" : "connection.failed",
    at: now,
    data: {
      sessionId,
      connectionId: settled.connectionId,
      platform: settled.platform,
      type: settled.type,
      zone: settled.zone,
      status: outcome.status,
      error: settled.error,
      reference: settled.reference,
    },
  });
  return settled;
}
