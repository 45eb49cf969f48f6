import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock";
import { parseConfig } from "../../src/config/load";
import type { Deps } from "../../src/core/deps";
import { type Created, type PlatformAdapter, PlatformError } from "../../src/core/platform";
import { completeSession, finishOutcome, startSession } from "../../src/core/session";
import { AppFailure } from "../../src/failures/failure";
import type { RequestLog } from "../../src/observability/log";
import { Store } from "../../src/storage/store";
import { testEnv } from "../helpers/worker";

/** A clock the test moves by hand. */
function manualClock(start = Date.now()) {
  let now = start;
  const clock: Clock = { now: () => now, timeout: () => new AbortController().signal };
  return { clock, advance: (ms: number) => (now += ms) };
}

/** Deps built by hand: no Request, no Hono context. */
function depsFor(clock: Clock, overrides: Record<string, string> = {}) {
  const result = parseConfig(testEnv(overrides));
  if (!result.ok) throw result.error;
  const deferred: Promise<unknown>[] = [];
  const log: RequestLog = { route: "complete" };
  const deps: Deps = {
    config: result.config,
    store: new Store(env.CONNECTIONS, result.config.recordTtlSeconds, clock),
    log,
    clock,
    publicOrigin: "https://connect.example.com",
    cookie: () => undefined,
    host: "connect.example.com",
    fetch: () => Promise.reject(new Error("no network in this test")),
    defer: (_task, work) => deferred.push(work),
    notify: () => {},
  };
  return { deps, log, settle: () => Promise.all(deferred) };
}

class FakeUnavailable extends PlatformError {
  override readonly name = "FakeUnavailable";
  readonly code = "peaka_unavailable";
  readonly platformStatus = 503;
}

/** A second platform, as the core sees one: it only has to create connections. */
function fakeAdapter(answer: () => Promise<Created>): PlatformAdapter & { inputs: unknown[] } {
  const inputs: unknown[] = [];
  return {
    platform: "peaka",
    inputs,
    create: (_deps, input) => {
      inputs.push(input);
      return answer();
    },
    checkConsentUrl: () => [],
  };
}

const RETURN_URL = "https://app.example.com/settings?tab=1";

describe("session core, without a request", () => {
  it("starts a session through any adapter and remembers the way back under the injected clock", async () => {
    const { clock } = manualClock(1_700_000_000_000);
    const { deps } = depsFor(clock);
    const id = `fake_${crypto.randomUUID()}`;
    const adapter = fakeAdapter(async () => ({
      connectionId: id,
      consentUrl: new URL(`https://consent.example.com/auth?state=st_${id}`),
      warnings: [],
    }));
    const started = await startSession(deps, adapter, {
      type: "t",
      name: "n",
      zone: "eu",
      returnUrl: RETURN_URL,
    });
    expect(adapter.inputs).toEqual([{ type: "t", name: "n", zone: "eu", returnUrl: RETURN_URL }]);
    expect(started).toEqual({
      sessionId: expect.stringMatching(/^cs_[A-Za-z0-9_-]{24}$/),
      connectionId: id,
      consentUrl: `https://consent.example.com/auth?state=st_${id}`,
      zone: "eu",
      expiresAt: 1_700_000_000_000 + 3_600_000,
      warnings: [],
    });
    expect(await deps.store.getState(`st_${id}`)).toMatchObject({ connectionId: id, zone: "eu" });
  });

  it("completes a pending session with a 303 and spends its record after the response", async () => {
    const { clock } = manualClock();
    const { deps, log, settle } = depsFor(clock);
    const id = `fake_${crypto.randomUUID()}`;
    await deps.store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: clock.now() });
    const redirect = await completeSession(deps, { connectionId: id, status: "success" });
    expect(redirect).toEqual({ status: 303, location: `${RETURN_URL}&connectionId=${id}&status=success` });
    expect(log).toMatchObject({ outcome: "returned", connectionId: id, zone: "us" });
    await settle();
    expect(await deps.store.getConnection(id)).toBeUndefined();
  });

  it("a session past its records' lifetime has expired: unknown_connection, by the clock alone", async () => {
    const { clock, advance } = manualClock();
    const { deps } = depsFor(clock);
    const id = `fake_${crypto.randomUUID()}`;
    await deps.store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: clock.now() });
    advance(3_600_000);
    await expect(completeSession(deps, { connectionId: id, status: "success" })).rejects.toMatchObject({
      code: "unknown_connection",
    });
  });

  it("maps an adapter's platform error to its wire code, naming the connection", async () => {
    const { deps } = depsFor(manualClock().clock);
    const adapter = fakeAdapter(() => Promise.reject(new FakeUnavailable("down")));
    const failure = await startSession(deps, adapter, {
      type: "t",
      name: "n",
      zone: "us",
      returnUrl: RETURN_URL,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppFailure);
    expect(failure).toMatchObject({ code: "peaka_unavailable", status: 503 });
    expect((failure as AppFailure).cause).toBeInstanceOf(FakeUnavailable);
  });

  it("finishes a failed outcome on its return URL with the failure code", async () => {
    const { deps } = depsFor(manualClock().clock);
    const redirect = await finishOutcome(
      deps,
      {
        status: "fail",
        connectionId: "c1",
        returnUrl: RETURN_URL,
        error: "storage_unavailable",
      },
      "exchange",
    );
    expect(redirect.location).toBe(`${RETURN_URL}&connectionId=c1&status=fail&error=storage_unavailable`);
  });

  it("refuses a stored return URL that the allow-list no longer has", async () => {
    const { deps } = depsFor(manualClock().clock, { RETURN_ORIGINS: "https://other.example.com" });
    await expect(
      finishOutcome(deps, { status: "success", connectionId: "c1", returnUrl: RETURN_URL }, "exchange"),
    ).rejects.toMatchObject({ code: "return_url_not_allowed" });
  });
});
