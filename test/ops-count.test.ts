import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Store } from "../src/storage/store";
import { apiInit, browserGet, consentUrl, link, mockCreate, START_ENV } from "./fixtures/start";
import { captureLogs } from "./helpers/logs";
import { connectionJson, mockExchange, peaka } from "./helpers/peaka";
import { call } from "./helpers/worker";

// KV operations and Peaka calls per flow, counted on the real local KV
// binding and at the network boundary. docs/benchmarks.md reports the same
// counts from the production bundle; these tests keep them from creeping up.

const HOST = "https://connect.example.com";
const RETURN_URL = "https://app.example.com/settings";
const EU_CALLBACK = "https://eu.peaka.studio/oauth2/callback";
const store = new Store(env.CONNECTIONS, 3600);
// Keeps the request log lines out of the test output.
captureLogs();

type KvMethod = "get" | "getWithMetadata" | "put" | "delete" | "list";

/** The real binding behind a proxy that counts each method call. */
function countingKv(kv: KVNamespace): { kv: KVNamespace; counts: Record<KvMethod, number> } {
  const counts: Record<KvMethod, number> = { get: 0, getWithMetadata: 0, put: 0, delete: 0, list: 0 };
  const proxy = new Proxy(kv, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (typeof property === "string" && property in counts) counts[property as KvMethod]++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv: proxy, counts };
}

let subrequests = 0;
const countRequest = () => {
  subrequests++;
};
beforeEach(() => {
  subrequests = 0;
  peaka.events.on("request:start", countRequest);
});
afterEach(() => {
  peaka.events.removeListener("request:start", countRequest);
});

const unique = (prefix: string) => `${prefix}_${crypto.randomUUID()}`;

/** A pending session, as a start writes it; its id goes on the flow records. */
async function seedSession(connectionId: string): Promise<string> {
  const sessionId = `cs_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
  const now = Date.now();
  await store.putSession(sessionId, {
    sessionId,
    platform: "peaka",
    type: "google_analytics",
    zone: "us",
    display: "redirect",
    returnUrl: RETURN_URL,
    status: "pending",
    connectionId,
    createdAt: now,
    deadline: now + 3_600_000,
  });
  return sessionId;
}

describe("KV operations and subrequests per flow", () => {
  it("relay with one zone: no KV at all, no subrequest", async () => {
    const { kv, counts } = countingKv(env.CONNECTIONS);
    const res = await call(`${HOST}/oauth2/mycallback?code=c1&state=${unique("st")}`, {}, { CONNECTIONS: kv });
    expect(res.status).toBe(307);
    expect(counts).toEqual({ get: 0, getWithMetadata: 0, put: 0, delete: 0, list: 0 });
    expect(subrequests).toBe(0);
  });

  it("relay with two zones: one read (the state record names the zone)", async () => {
    const state = unique("st");
    await store.putState(state, { connectionId: unique("conn"), returnUrl: RETURN_URL, zone: "eu" });
    const { kv, counts } = countingKv(env.CONNECTIONS);
    const res = await call(
      `${HOST}/oauth2/mycallback?code=c1&state=${state}`,
      {},
      {
        CONNECTIONS: kv,
        PEAKA_EU_CALLBACK_URL: EU_CALLBACK,
      },
    );
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${EU_CALLBACK}?code=c1&state=${state}`);
    expect(counts).toEqual({ get: 1, getWithMetadata: 0, put: 0, delete: 0, list: 0 });
    expect(subrequests).toBe(0);
  });

  it("completion: one read and one delete, then the session settled after the response (one read, one write)", async () => {
    const id = unique("conn");
    const sessionId = await seedSession(id);
    await store.putConnection(id, {
      returnUrl: RETURN_URL,
      zone: "us",
      mode: "relay",
      createdAt: Date.now(),
      sessionId,
    });
    const { kv, counts } = countingKv(env.CONNECTIONS);
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}?status=success`, {}, { CONNECTIONS: kv });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}?connectionId=${id}&status=success`);
    // The session's read and write are the settle (read-then-write: it must not settle twice).
    expect(counts).toEqual({ get: 2, getWithMetadata: 0, put: 1, delete: 1, list: 0 });
    expect((await store.getSession(sessionId))?.status).toBe("succeeded");
    expect(subrequests).toBe(0);
  });

  it("exchange: two reads, one call to Peaka, then the outcome write, the record delete and the session's settle", async () => {
    const id = unique("conn");
    const state = unique("st");
    const sessionId = await seedSession(id);
    await store.putConnection(id, {
      returnUrl: RETURN_URL,
      zone: "us",
      mode: "exchange",
      createdAt: Date.now(),
      sessionId,
    });
    await store.putState(state, { connectionId: id, returnUrl: RETURN_URL, zone: "us", sessionId });
    const seen = mockExchange(() => connectionJson(id));
    const { kv, counts } = countingKv(env.CONNECTIONS);
    const res = await call(
      `${HOST}/oauth2/mycallback?code=${unique("code")}&state=${state}`,
      {},
      {
        CONNECTIONS: kv,
        CALLBACK_MODE: "exchange",
      },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}?connectionId=${id}&status=success`);
    // Two reads on the way (outcome, state) and the settle's read of the session after the response.
    expect(counts.get).toBeLessThanOrEqual(3);
    expect(counts).toEqual({ get: counts.get, getWithMetadata: 0, put: 2, delete: 1, list: 0 });
    expect((await store.getSession(sessionId))?.status).toBe("succeeded");
    expect(seen).toHaveLength(1);
    expect(subrequests).toBe(1);
  });

  it("start through the server API, BROWSER_BINDING=off: four writes (both records, the session and the startUrl's), one call to Peaka", async () => {
    const state = unique("st");
    const seen = mockCreate({ url: consentUrl(state) });
    const { kv, counts } = countingKv(env.CONNECTIONS);
    const res = await call(
      `${HOST}/api/v1/connections`,
      apiInit("POST", { type: "google_analytics", name: "Analytics", returnUrl: RETURN_URL }),
      { ...START_ENV, CONNECTIONS: kv },
    );
    expect(res.status).toBe(201);
    // The session is written in parallel with the two records: no extra round trip.
    expect(counts).toEqual({ get: 0, getWithMetadata: 0, put: 4, delete: 0, list: 0 });
    expect(seen).toHaveLength(1);
    expect(subrequests).toBe(1);
    // Both records the callbacks need are among those writes.
    const { connectionId: id, sessionId } = (await res.json()) as { connectionId: string; sessionId: string };
    expect(await store.getConnection(id)).toBeDefined();
    expect(await store.getState(state)).toBeDefined();
    expect(await store.getSession(sessionId)).toMatchObject({ status: "pending", connectionId: id });
  });

  it("start through a signed link: the nonce check (one read, one write) on top of the two records and the session", async () => {
    const state = unique("st");
    const seen = mockCreate({ url: consentUrl(state) });
    const { kv, counts } = countingKv(env.CONNECTIONS);
    const url = await link();
    const res = await call(url, browserGet(url, `198.51.100.${Math.floor(Math.random() * 250)}`), {
      ...START_ENV,
      CONNECTIONS: kv,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(consentUrl(state));
    expect(counts).toEqual({ get: 1, getWithMetadata: 0, put: 4, delete: 0, list: 0 });
    expect(seen).toHaveLength(1);
    expect(subrequests).toBe(1);
  });
});
