import { env } from "cloudflare:test";
import { HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock";
import { parseConfig } from "../../src/config/load";
import {
  expireSession,
  openSession,
  readSession,
  type SessionInit,
  settleSession,
  updateSession,
} from "../../src/core/connect-session";
import type { Deps } from "../../src/core/deps";
import type { SessionEvent } from "../../src/core/events";
import type { Created, PlatformAdapter } from "../../src/core/platform";
import { flowReturn } from "../../src/core/result";
import { completeSession } from "../../src/core/session";
import { acceptStartLink, startFromLink } from "../../src/core/start-link";
import type { RequestLog } from "../../src/observability/log";
import { exchange } from "../../src/platforms/peaka/callbacks";
import { PeakaStatusError } from "../../src/platforms/peaka/errors";
import { verifyResult } from "../../src/security/result.js";
import { Store } from "../../src/storage/store";
import { LINK_KEY, link } from "../fixtures/start";
import { connectionJson, mockExchange } from "../helpers/peaka";
import { testEnv } from "../helpers/worker";

const RETURN_URL = "https://app.example.com/settings?tab=1";
const RESULT_KEY = "test-result-signing-key-0123456789abcdef";
const SESSION_ID = /^cs_[A-Za-z0-9_-]{24}$/;

function manualClock(start = 1_790_000_000_000) {
  let now = start;
  const clock: Clock = { now: () => now, timeout: () => new AbortController().signal };
  return { clock, advance: (ms: number) => (now += ms) };
}

/** Deps by hand, with notify captured: every event the core raises lands in `events`. */
function depsFor(clock: Clock, overrides: Record<string, string> = {}) {
  const result = parseConfig(testEnv(overrides));
  if (!result.ok) throw result.error;
  const deferred: Promise<unknown>[] = [];
  const events: SessionEvent[] = [];
  const deps: Deps = {
    config: result.config,
    store: new Store(env.CONNECTIONS, result.config.recordTtlSeconds, clock, result.config.sessionTtlSeconds),
    log: { route: "complete" } as RequestLog,
    clock,
    publicOrigin: "https://connect.example.com",
    cookie: () => undefined,
    host: "connect.example.com",
    fetch: (...args) => fetch(...args),
    defer: (_task, work) => deferred.push(work),
    notify: (event) => events.push(event),
  };
  // Deferred work may defer more (a settle after a deferred open): drain until quiet.
  const settle = async () => {
    while (deferred.length > 0) await Promise.all(deferred.splice(0));
  };
  return { deps, events, settle };
}

const init = (extra: Partial<SessionInit> = {}): SessionInit => ({
  platform: "peaka",
  type: "google_analytics",
  zone: "us",
  returnUrl: RETURN_URL,
  ...extra,
});

describe("a connect session's lifecycle", () => {
  it("opens pending, settles succeeded once, and notifies exactly once", async () => {
    const { clock, advance } = manualClock();
    const { deps, events } = depsFor(clock, { SESSION_TTL_SECONDS: "7200" });
    const opened = await openSession(deps, init({ reference: "tenant-42" }));
    expect(opened).toMatchObject({
      sessionId: expect.stringMatching(SESSION_ID),
      status: "pending",
      display: "redirect",
      reference: "tenant-42",
      createdAt: clock.now(),
      // Peaka's deadline: the flow records' lifetime.
      deadline: clock.now() + 3_600_000,
      // Kept for SESSION_TTL_SECONDS, not RECORD_TTL_SECONDS.
      expiresAt: clock.now() + 7_200_000,
    });
    expect(events).toEqual([]);

    advance(1000);
    const settled = await settleSession(deps, opened.sessionId, { status: "succeeded", connectionId: "conn_1" });
    expect(settled).toMatchObject({ status: "succeeded", connectionId: "conn_1", completedAt: clock.now() });
    expect(events).toEqual([
      {
        type: "connection.succeeded",
        at: clock.now(),
        data: {
          sessionId: opened.sessionId,
          connectionId: "conn_1",
          platform: "peaka",
          type: "google_analytics",
          zone: "us",
          status: "succeeded",
          error: undefined,
          reference: "tenant-42",
        },
      },
    ]);

    // A later outcome (a replayed callback, a late failure) changes nothing and raises nothing.
    advance(1000);
    const again = await settleSession(deps, opened.sessionId, { status: "failed", error: "connection_failed" });
    expect(again).toMatchObject({ status: "succeeded", completedAt: clock.now() - 1000 });
    expect(await readSession(deps, opened.sessionId)).toMatchObject({ status: "succeeded" });
    expect(events).toHaveLength(1);
  });

  it("a failure settles failed with its error, as connection.failed", async () => {
    const { deps, events } = depsFor(manualClock().clock);
    const { sessionId } = await openSession(deps, init());
    await settleSession(deps, sessionId, { status: "failed", connectionId: "conn_2", error: "access_denied" });
    expect(await readSession(deps, sessionId)).toMatchObject({ status: "failed", error: "access_denied" });
    expect(events.map((e) => [e.type, e.data.status, e.data.error])).toEqual([
      ["connection.failed", "failed", "access_denied"],
    ]);
  });

  it("a pending session past its deadline reads as expired, by the injected clock alone, and stays so", async () => {
    const { clock, advance } = manualClock();
    const { deps, events } = depsFor(clock);
    const { sessionId } = await openSession(deps, init({ deadline: clock.now() + 60_000 }));
    advance(59_999);
    expect((await readSession(deps, sessionId))?.status).toBe("pending");
    advance(1);
    expect((await readSession(deps, sessionId))?.status).toBe("expired");
    // Expired is terminal: a late outcome does not revive it, and no event is raised.
    expect((await settleSession(deps, sessionId, { status: "succeeded" }))?.status).toBe("expired");
    expect(events).toEqual([]);
    // Nothing was written: the stored record is still the pending one.
    expect((await deps.store.getSession(sessionId))?.status).toBe("pending");
  });

  it("an expiry a flow observes is written and notified once, as connection.failed with status expired", async () => {
    const { clock, advance } = manualClock();
    const { deps, events } = depsFor(clock);
    const { sessionId } = await openSession(deps, init({ deadline: clock.now() + 60_000, reference: "acct-7" }));
    // Before the deadline nothing happens.
    expect((await expireSession(deps, sessionId))?.status).toBe("pending");
    expect(events).toEqual([]);
    advance(60_000);
    const expired = await expireSession(deps, sessionId);
    expect(expired).toMatchObject({ status: "expired", error: "expired", completedAt: clock.now() });
    expect((await deps.store.getSession(sessionId))?.status).toBe("expired");
    expect(events).toEqual([
      {
        type: "connection.failed",
        at: clock.now(),
        data: {
          sessionId,
          connectionId: undefined,
          platform: "peaka",
          type: "google_analytics",
          zone: "us",
          status: "expired",
          error: "expired",
          reference: "acct-7",
        },
      },
    ]);
    // Once: a second observer, or a late outcome, changes nothing.
    advance(1000);
    expect((await expireSession(deps, sessionId))?.completedAt).toBe(expired?.completedAt);
    expect((await settleSession(deps, sessionId, { status: "succeeded" }))?.status).toBe("expired");
    expect(events).toHaveLength(1);
  });

  it("a session opened settled (connected at start, or failed at start) notifies once, and only then", async () => {
    const { deps, events } = depsFor(manualClock().clock);
    const opened = await openSession(deps, init({ settled: { status: "succeeded", connectionId: "conn_3" } }));
    expect(opened).toMatchObject({ status: "succeeded", connectionId: "conn_3" });
    await settleSession(deps, opened.sessionId, { status: "failed", error: "connection_failed" });
    expect(events.map((e) => e.data.status)).toEqual(["succeeded"]);
  });

  it("updateSession records platform progress while pending, and never after", async () => {
    const { deps } = depsFor(manualClock().clock);
    const { sessionId } = await openSession(deps, init({ platformData: { a: "1" } }));
    await updateSession(deps, sessionId, { connectionId: "conn_4", platformData: { b: "2" } });
    expect(await readSession(deps, sessionId)).toMatchObject({
      status: "pending",
      connectionId: "conn_4",
      platformData: { a: "1", b: "2" },
    });
    await settleSession(deps, sessionId, { status: "failed", error: "connection_failed" });
    await updateSession(deps, sessionId, { connectionId: "conn_other" });
    expect(await readSession(deps, sessionId)).toMatchObject({ status: "failed", connectionId: "conn_4" });
  });

  it("an unknown or malformed id reads as nothing", async () => {
    const { deps } = depsFor(manualClock().clock);
    for (const id of ["cs_AAAAAAAAAAAAAAAAAAAAAAAA", "cs_short", "conn_1", "", "cs_AAAAAAAAAAAAAAAAAAAAAAA/"]) {
      expect(await readSession(deps, id)).toBeUndefined();
    }
  });

  it("never stores what it was not asked to keep: a start's credential stays behind", async () => {
    const { deps } = depsFor(manualClock().clock);
    const { sessionId } = await openSession(deps, {
      ...init(),
      credential: { clientSecret: "cs_live_secret" },
    } as SessionInit);
    expect(await env.CONNECTIONS.get(`sess:${sessionId}`)).not.toContain("cs_live_secret");
  });

  it("SESSION_TTL_SECONDS below RECORD_TTL_SECONDS is a config error naming the variable", () => {
    const result = parseConfig(testEnv({ SESSION_TTL_SECONDS: "600", RECORD_TTL_SECONDS: "3600" }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.problems).toEqual([
        { variable: "SESSION_TTL_SECONDS", reason: "must be at least RECORD_TTL_SECONDS" },
      ]);
    }
    const fine = parseConfig(testEnv({ SESSION_TTL_SECONDS: "3600", RECORD_TTL_SECONDS: "3600" }));
    expect(fine.ok && fine.config.sessionTtlSeconds).toBe(3600);
    const byDefault = parseConfig(testEnv());
    expect(byDefault.ok && byDefault.config.sessionTtlSeconds).toBe(604_800);
  });
});

describe("the way back carries the session", () => {
  it("signs sid and ref beside the outcome", async () => {
    const { deps } = depsFor(manualClock(Date.now()).clock, { RESULT_SIGNING_KEY: RESULT_KEY });
    const session = { sessionId: "cs_AAAAAAAAAAAAAAAAAAAAAAAA", reference: "tenant 42/eu" };
    const redirect = await flowReturn(deps, RETURN_URL, {
      connectionId: "conn_5",
      status: "success",
      via: "redirect",
      session,
    });
    const token = new URL(redirect.location).searchParams.get("result");
    const claims = await verifyResult(token, RESULT_KEY, { audience: "https://app.example.com" });
    expect(claims).toMatchObject({ sid: session.sessionId, ref: session.reference, sub: "conn_5" });
    // No session (a flow from before sessions): neither claim.
    const bare = await flowReturn(deps, RETURN_URL, { connectionId: "conn_5", status: "success", via: "redirect" });
    const bareClaims = await verifyResult(new URL(bare.location).searchParams.get("result"), RESULT_KEY, {
      audience: "https://app.example.com",
    });
    expect(bareClaims.sid).toBeUndefined();
    expect(bareClaims.ref).toBeUndefined();
  });

  it("display popup: the redirect also carries the popup's message, for the return URL's origin only", async () => {
    const { deps } = depsFor(manualClock(Date.now()).clock, { RESULT_SIGNING_KEY: RESULT_KEY });
    const sessionId = "cs_BBBBBBBBBBBBBBBBBBBBBBBB";
    const redirect = await flowReturn(deps, "http://localhost:3000/done?x=1", {
      connectionId: "conn_6",
      status: "fail",
      error: "access_denied",
      via: "redirect",
      session: { sessionId, display: "popup" },
    });
    const params = new URL(redirect.location).searchParams;
    expect(redirect.status).toBe(303);
    expect(redirect.popup).toEqual({
      targetOrigin: "http://localhost:3000",
      message: {
        source: "peaka-connect-edge",
        sessionId,
        connectionId: "conn_6",
        status: "fail",
        error: "access_denied",
        result: params.get("result"),
      },
    });
    expect(redirect.popup?.message.result).toMatch(/^ey/);
    const plain = await flowReturn(deps, RETURN_URL, {
      status: "success",
      via: "redirect",
      session: { sessionId, display: "redirect" },
    });
    expect(plain.popup).toBeUndefined();
  });
});

/** A platform for the start tests: it answers what the test says. */
function adapter(answer: () => Promise<Created>): PlatformAdapter {
  return { platform: "peaka", create: answer, checkConsentUrl: () => [] };
}

describe("every terminal outcome settles the session and notifies once", () => {
  async function pending(deps: Deps, mode: "relay" | "exchange", display?: "popup") {
    const connectionId = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    const session = await openSession(deps, init({ connectionId, reference: "r-1", display }));
    const link = { sessionId: session.sessionId, reference: "r-1", display };
    const now = deps.clock.now();
    await deps.store.putConnection(connectionId, { returnUrl: RETURN_URL, zone: "us", mode, createdAt: now, ...link });
    await deps.store.putState(state, { connectionId, returnUrl: RETURN_URL, zone: "us", ...link });
    return { connectionId, state, sessionId: session.sessionId };
  }

  it.each([
    ["success", "succeeded", undefined],
    ["fail", "failed", "connection_failed"],
  ] as const)("Peaka's completion (%s)", async (verdict, status, error) => {
    const { deps, events, settle } = depsFor(manualClock(Date.now()).clock);
    const { connectionId, sessionId } = await pending(deps, "relay", "popup");
    const redirect = await completeSession(deps, { connectionId, status: verdict });
    expect(redirect.popup?.message).toMatchObject({ sessionId, status: verdict });
    await settle();
    expect(await readSession(deps, sessionId)).toMatchObject({ status, connectionId, ...(error ? { error } : {}) });
    // The record is spent: a second completion finds nothing, and raises nothing.
    await expect(completeSession(deps, { connectionId, status: verdict })).rejects.toMatchObject({
      code: "unknown_connection",
    });
    await settle();
    expect(events.map((e) => [e.data.sessionId, e.data.status, e.data.error])).toEqual([[sessionId, status, error]]);
  });

  it("an exchange that succeeds, then its replay", async () => {
    const { deps, events, settle } = depsFor(manualClock(Date.now()).clock, { CALLBACK_MODE: "exchange" });
    const { connectionId, state, sessionId } = await pending(deps, "exchange");
    mockExchange(() => connectionJson(connectionId));
    const query = `code=c_${crypto.randomUUID()}&state=${state}`;
    await exchange(deps, query, new URLSearchParams(query));
    await settle();
    expect(await readSession(deps, sessionId)).toMatchObject({ status: "succeeded", connectionId });
    const replay = await exchange(deps, query, new URLSearchParams(query));
    expect(new URL(replay.location).searchParams.get("status")).toBe("success");
    await settle();
    expect(events.map((e) => e.type)).toEqual(["connection.succeeded"]);
  });

  it("an exchange that Peaka refuses", async () => {
    const { deps, events, settle } = depsFor(manualClock(Date.now()).clock, { CALLBACK_MODE: "exchange" });
    const { state, sessionId } = await pending(deps, "exchange");
    mockExchange(() => HttpResponse.json({ message: "bad code" }, { status: 400 }));
    const query = `code=c_${crypto.randomUUID()}&state=${state}`;
    await exchange(deps, query, new URLSearchParams(query));
    await settle();
    expect(await readSession(deps, sessionId)).toMatchObject({ status: "failed", error: "peaka_rejected" });
    expect(events.map((e) => [e.type, e.data.error])).toEqual([["connection.failed", "peaka_rejected"]]);
  });

  it("a provider's denial", async () => {
    const { deps, events, settle } = depsFor(manualClock(Date.now()).clock, { CALLBACK_MODE: "exchange" });
    const { state, sessionId } = await pending(deps, "exchange");
    const query = `error=access_denied&state=${state}`;
    await exchange(deps, query, new URLSearchParams(query));
    await settle();
    expect(await readSession(deps, sessionId)).toMatchObject({ status: "failed", error: "access_denied" });
    expect(events.map((e) => [e.type, e.data.error, e.data.reference])).toEqual([
      ["connection.failed", "access_denied", "r-1"],
    ]);
  });

  it("a platform failure at a signed link's start: back to the app, the session failed", async () => {
    const { deps, events, settle } = depsFor(manualClock(Date.now()).clock, {
      LINK_SIGNING_KEY: LINK_KEY,
      RESULT_SIGNING_KEY: RESULT_KEY,
    });
    const url = new URL(await link({ reference: "acct-7", returnUrl: RETURN_URL }));
    const failing = adapter(() => Promise.reject(new PeakaStatusError(503)));
    const redirect = await startFromLink(deps, failing, await acceptStartLink(deps, url.search.slice(1)));
    await settle();
    const claims = await verifyResult(new URL(redirect.location).searchParams.get("result"), RESULT_KEY, {
      audience: "https://app.example.com",
    });
    expect(claims).toMatchObject({ status: "fail", error: "peaka_unavailable", ref: "acct-7" });
    expect(await readSession(deps, claims.sid as string)).toMatchObject({
      status: "failed",
      error: "peaka_unavailable",
      reference: "acct-7",
    });
    expect(events.map((e) => [e.data.sessionId, e.data.status])).toEqual([[claims.sid, "failed"]]);
  });

  it("a signed link's start that needs no consent: connected, the session succeeded at once", async () => {
    const { deps, events, settle } = depsFor(manualClock(Date.now()).clock, { LINK_SIGNING_KEY: LINK_KEY });
    const url = new URL(await link({ display: "popup" }));
    const connected = adapter(async () => ({ connectionId: "conn_direct", warnings: [] }));
    const redirect = await startFromLink(deps, connected, await acceptStartLink(deps, url.search.slice(1)));
    await settle();
    expect(redirect.popup?.message).toMatchObject({ status: "success", connectionId: "conn_direct" });
    const sessionId = redirect.popup?.message.sessionId ?? "";
    expect(await readSession(deps, sessionId)).toMatchObject({ status: "succeeded", display: "popup" });
    expect(events.map((e) => e.type)).toEqual(["connection.succeeded"]);
  });
});
