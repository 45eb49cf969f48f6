import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { verifyResult } from "../src/security/result.js";
import { canonicalPayload, signPayload } from "../src/security/start-link.js";
import { Store } from "../src/storage/store";
import {
  apiInit,
  browserGet,
  consentUrl,
  freshToken,
  HOST,
  LINK_KEY,
  link,
  mockCreate,
  RETURN_URL,
} from "./fixtures/start";
import { captureLogs } from "./helpers/logs";
import { connectionJson, mockExchange } from "./helpers/peaka";
import { call, type Overrides } from "./helpers/worker";

/*
 * Connect sessions through the worker: every start (server API, signed
 * link) opens one, every terminal outcome settles it, and the status API
 * answers it. The core's own tests (test/core/connect-session.test.ts) hold
 * the lifecycle rules and the exactly-once notification.
 */

captureLogs();
const store = new Store(env.CONNECTIONS, 3600);
const RESULT_KEY = "test-result-signing-key-0123456789abcdef";
const SESSION_ID = /^cs_[A-Za-z0-9_-]{24}$/;
const CLIENT = { clientId: "client-123.apps.example.com", clientSecret: "cs_live_9f8e7d6c5b4a" };

function api(overrides: Overrides = {}) {
  const token = freshToken();
  const vars: Overrides = { ADMIN_TOKEN: token, ...overrides };
  return {
    token,
    vars,
    post: (body: object) =>
      call(
        `${HOST}/api/v1/connections`,
        apiInit("POST", { type: "google_analytics", name: "Analytics", returnUrl: RETURN_URL, ...body }, token),
        vars,
      ),
    put: (id: string, body: object) =>
      call(`${HOST}/api/v1/connections/${id}/return`, apiInit("PUT", body, token), vars),
    session: (id: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
      call(`${HOST}/api/v1/sessions/${id}`, { headers: { accept: "application/json", ...headers } }, vars),
  };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as Record<string, unknown>;
}

describe("GET /api/v1/sessions/{sessionId}", () => {
  it("answers a started session, pending, with only its public fields", async () => {
    const a = api();
    const connectionId = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    mockCreate({ id: connectionId, url: consentUrl(state) });
    const started = await json(await a.post({ reference: "tenant 42", display: "popup" }));
    expect(started.sessionId).toMatch(SESSION_ID);

    const res = await a.session(started.sessionId as string);
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body).toEqual({
      sessionId: started.sessionId,
      connectionId,
      platform: "peaka",
      type: "google_analytics",
      zone: "us",
      reference: "tenant 42",
      status: "pending",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    // Never the way back (the partner's own query may hold secrets), the state, or a binding.
    expect(text).not.toContain("app.example.com");
    expect(text).not.toContain(state);
    expect(text).not.toContain("browser");
    expect(text).not.toContain("returnUrl");
  });

  it("is guarded by ADMIN_TOKEN like the rest of the API", async () => {
    const a = api();
    const wrong = await a.session("cs_AAAAAAAAAAAAAAAAAAAAAAAA", {
      authorization: "Bearer not-the-token-at-all-0123456789",
    });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error).toBe("unauthorized");
    const none = await a.session("cs_AAAAAAAAAAAAAAAAAAAAAAAA", {});
    expect(none.status).toBe(401);
  });

  it.each([
    ["an unknown id", "cs_AAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a malformed id", "cs_not-a-session"],
    ["a connection id", "conn_123"],
  ])("404 session_not_found as JSON for %s", async (_, id) => {
    const res = await api().session(id);
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ error: "session_not_found", requestId: expect.any(String) });
  });

  it("503 storage_unavailable as JSON when KV fails, never a stack", async () => {
    const kv = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        if (prop === "get") return () => Promise.reject(new Error("KV get failed at /srv/kv.js:12"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await api({ CONNECTIONS: kv }).session("cs_AAAAAAAAAAAAAAAAAAAAAAAA");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: "storage_unavailable" });
    expect(text).not.toContain("kv.js");
  });

  it("405 for another method", async () => {
    const a = api();
    const res = await call(
      `${HOST}/api/v1/sessions/cs_AAAAAAAAAAAAAAAAAAAAAAAA`,
      { method: "DELETE", headers: { authorization: `Bearer ${a.token}` } },
      a.vars,
    );
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });

  it("PUT …/return opens a session too, with the type when the partner gives it", async () => {
    const a = api();
    const id = `conn_${crypto.randomUUID()}`;
    const registered = await json(await a.put(id, { returnUrl: RETURN_URL, type: "hubspot", reference: "p-9" }));
    expect(registered.sessionId).toMatch(SESSION_ID);
    expect(await json(await a.session(registered.sessionId as string))).toMatchObject({
      connectionId: id,
      type: "hubspot",
      reference: "p-9",
      status: "pending",
    });
    const untyped = await json(await a.put(`conn_${crypto.randomUUID()}`, { returnUrl: RETURN_URL }));
    expect((await json(await a.session(untyped.sessionId as string))).type).toBe("unknown");
  });
});

describe("reference and display in the API", () => {
  it.each([
    ["a reference of 257 characters", { reference: "r".repeat(257) }, "reference"],
    ["an empty reference", { reference: "" }, "reference"],
    ["a reference with a newline", { reference: "a\nb" }, "reference"],
    ["a reference with non-ASCII", { reference: "café" }, "reference"],
    ["a reference that is not a string", { reference: 42 }, "reference"],
    ["an unknown display", { display: "modal" }, "display"],
  ])("400 naming the field for %s, before calling Peaka", async (_, body, field) => {
    const seen = mockCreate();
    const res = await api().post(body);
    expect(res.status).toBe(400);
    const answer = await json(res);
    expect(answer.error).toBe("invalid_request");
    expect((answer.fields as { field: string; problem: string }[]).map((f) => f.field)).toEqual([field]);
    expect(seen).toHaveLength(0);
  });

  it("the same rules on PUT …/return", async () => {
    const res = await api().put(`conn_${crypto.randomUUID()}`, { returnUrl: RETURN_URL, reference: "x".repeat(300) });
    expect(res.status).toBe(400);
    expect((await json(res)).fields).toEqual([
      { field: "reference", problem: "must be 1-256 printable ASCII characters" },
    ]);
  });

  it("accepts 256 printable characters, spaces and punctuation included", async () => {
    mockCreate();
    const reference = `${" !~".repeat(85)}z`;
    const res = await api().post({ reference, display: "redirect" });
    expect(res.status).toBe(201);
  });
});

describe("terminal outcomes through the worker settle the session", () => {
  it("API start → Peaka's completion: succeeded, and the result carries sid and ref", async () => {
    const a = api({ RESULT_SIGNING_KEY: RESULT_KEY });
    const connectionId = `conn_${crypto.randomUUID()}`;
    mockCreate({ id: connectionId });
    const { sessionId } = await json(await a.post({ reference: "tenant-7" }));
    const back = await call(`${HOST}/oauth2/complete?connectionId=${connectionId}?status=success`, {}, a.vars);
    expect(back.status).toBe(303);
    const claims = await verifyResult(
      new URL(back.headers.get("location") ?? "").searchParams.get("result"),
      RESULT_KEY,
      {
        audience: "https://app.example.com",
      },
    );
    expect(claims).toMatchObject({ sid: sessionId, ref: "tenant-7", sub: connectionId, status: "success" });
    expect(await json(await a.session(sessionId as string))).toMatchObject({
      status: "succeeded",
      connectionId,
      completedAt: expect.stringMatching(/Z$/),
    });
  });

  it("API start → Peaka's completion with fail: failed, connection_failed", async () => {
    const a = api();
    const connectionId = `conn_${crypto.randomUUID()}`;
    mockCreate({ id: connectionId });
    const { sessionId } = await json(await a.post({}));
    await call(`${HOST}/oauth2/complete?connectionId=${connectionId}?status=fail`, {}, a.vars);
    expect(await json(await a.session(sessionId as string))).toMatchObject({
      status: "failed",
      error: "connection_failed",
    });
  });

  it("exchange mode: API start → the callback's exchange succeeds", async () => {
    const a = api({ CALLBACK_MODE: "exchange" });
    const connectionId = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    mockCreate({ id: connectionId, url: consentUrl(state, `${HOST}/oauth2/mycallback`) });
    const { sessionId } = await json(await a.post({ credential: CLIENT }));
    mockExchange(() => connectionJson(connectionId));
    const back = await call(`${HOST}/oauth2/mycallback?code=c_${crypto.randomUUID()}&state=${state}`, {}, a.vars);
    expect(back.status).toBe(303);
    expect(await json(await a.session(sessionId as string))).toMatchObject({ status: "succeeded", connectionId });
  });

  it("exchange mode: the provider's denial", async () => {
    const a = api({ CALLBACK_MODE: "exchange" });
    const state = `st_${crypto.randomUUID()}`;
    mockCreate({ url: consentUrl(state, `${HOST}/oauth2/mycallback`) });
    const { sessionId } = await json(await a.post({ credential: CLIENT }));
    await call(`${HOST}/oauth2/mycallback?error=access_denied&state=${state}`, {}, a.vars);
    expect(await json(await a.session(sessionId as string))).toMatchObject({
      status: "failed",
      error: "access_denied",
    });
  });

  it("a signed link whose start Peaka refuses: back to the app, the session failed", async () => {
    const a = api({ LINK_SIGNING_KEY: LINK_KEY, RESULT_SIGNING_KEY: RESULT_KEY });
    mockCreate({ status: 500 });
    const url = await link({ reference: "acct 1" });
    const back = await call(url, browserGet(url, "198.51.100.31"), a.vars);
    expect(back.status).toBe(303);
    const claims = await verifyResult(
      new URL(back.headers.get("location") ?? "").searchParams.get("result"),
      RESULT_KEY,
      {
        audience: "https://app.example.com",
      },
    );
    expect(claims).toMatchObject({ status: "fail", error: "peaka_unavailable", ref: "acct 1" });
    expect(await json(await a.session(claims.sid as string))).toMatchObject({
      status: "failed",
      error: "peaka_unavailable",
      reference: "acct 1",
    });
  });

  it("BROWSER_BINDING=required: the startUrl carries the session to the records it writes, and the bound completion settles it", async () => {
    const a = api({ BROWSER_BINDING: "required", RESULT_SIGNING_KEY: RESULT_KEY });
    const connectionId = `conn_${crypto.randomUUID()}`;
    mockCreate({ id: connectionId });
    const { sessionId, startUrl } = await json(await a.post({ reference: "bound-1", display: "popup" }));
    const begun = await call(startUrl as string, { headers: { accept: "text/html" } }, a.vars);
    expect(begun.status).toBe(303);
    const cookies = begun.headers.getSetCookie().map((header) => header.split(";")[0] ?? "");
    expect(await store.getConnection(connectionId)).toMatchObject({
      sessionId,
      reference: "bound-1",
      display: "popup",
    });
    const back = await call(
      `${HOST}/oauth2/complete?connectionId=${connectionId}?status=success`,
      { headers: { cookie: cookies.join("; ") } },
      a.vars,
    );
    expect(back.status).toBe(303);
    const claims = await verifyResult(
      new URL(back.headers.get("location") ?? "").searchParams.get("result"),
      RESULT_KEY,
      {
        audience: "https://app.example.com",
      },
    );
    expect(claims).toMatchObject({ sid: sessionId, ref: "bound-1" });
    expect(await json(await a.session(sessionId as string))).toMatchObject({ status: "succeeded", connectionId });
  });

  it("a pending session whose deadline passed reads as expired", async () => {
    const a = api();
    const sessionId = "cs_EXPIREDEXPIREDEXPIRED000";
    const now = Date.now();
    await store.putSession(sessionId, {
      sessionId,
      platform: "peaka",
      type: "google_analytics",
      zone: "us",
      display: "redirect",
      returnUrl: RETURN_URL,
      status: "pending",
      createdAt: now - 3_600_000,
      deadline: now - 1,
    });
    expect(await json(await a.session(sessionId))).toMatchObject({ status: "expired" });
  });
});

describe("reference and display in signed links", () => {
  it("are signed fields: they reach the session, and changing one breaks the signature", async () => {
    const vars: Overrides = { LINK_SIGNING_KEY: LINK_KEY };
    const connectionId = `conn_${crypto.randomUUID()}`;
    mockCreate({ id: connectionId });
    const url = await link({ reference: "org-5", display: "popup" });
    expect(new URL(url).searchParams.get("reference")).toBe("org-5");
    const res = await call(url, browserGet(url, "198.51.100.32"), vars);
    expect(res.status).toBe(303);
    const record = await store.getConnection(connectionId);
    expect(record).toMatchObject({
      reference: "org-5",
      display: "popup",
      sessionId: expect.stringMatching(SESSION_ID),
    });
    expect(await store.getSession(record?.sessionId ?? "")).toMatchObject({
      reference: "org-5",
      display: "popup",
      status: "pending",
    });

    for (const [name, value] of [
      ["reference", "org-6"],
      ["display", "redirect"],
    ] as const) {
      const tampered = new URL(await link({ reference: "org-5", display: "popup" }));
      tampered.searchParams.set(name, value);
      const refused = await call(tampered.href, browserGet(tampered.href, "198.51.100.33"), vars);
      expect(refused.status).toBe(403);
    }
  });

  it("a link signed before these fields existed still verifies: its payload is unchanged", async () => {
    const fields = {
      type: "google_analytics",
      name: "Analytics",
      returnUrl: RETURN_URL,
      exp: String(Math.floor(Date.now() / 1000) + 300),
      nonce: `n_${crypto.randomUUID()}`,
    };
    const old = `peaka-connect-edge/start-link/v1\n${new URLSearchParams(fields).toString()}`;
    expect(canonicalPayload(fields)).toBe(old);
    mockCreate();
    const url = new URL("/oauth2/start", HOST);
    for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
    url.searchParams.set("sig", await signPayload(fields, LINK_KEY));
    const res = await call(url.href, browserGet(url.href, "198.51.100.34"), { LINK_SIGNING_KEY: LINK_KEY });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^https:\/\/accounts\.google\.com\//);
  });

  it("a signed link with a reference the API would refuse: 400 naming reference", async () => {
    const fields = {
      type: "google_analytics",
      name: "Analytics",
      returnUrl: RETURN_URL,
      reference: "x".repeat(257),
      exp: String(Math.floor(Date.now() / 1000) + 300),
      nonce: `n_${crypto.randomUUID()}`,
    };
    const seen = mockCreate();
    const url = new URL("/oauth2/start", HOST);
    for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
    url.searchParams.set("sig", await signPayload(fields, LINK_KEY));
    const res = await call(
      url.href,
      { headers: { accept: "application/json", "cf-connecting-ip": "198.51.100.35" } },
      {
        LINK_SIGNING_KEY: LINK_KEY,
      },
    );
    expect(res.status).toBe(400);
    expect((await json(res)).fields).toEqual([
      { field: "reference", problem: "must be 1-256 printable ASCII characters" },
    ]);
    expect(seen).toHaveLength(0);
  });

  it("createStartLink refuses a bad reference or display before signing", async () => {
    await expect(link({ reference: "a\tb" })).rejects.toThrow(/reference/);
    await expect(link({ reference: "" })).rejects.toThrow(/reference/);
    await expect(link({ display: "modal" as "popup" })).rejects.toThrow(/display/);
  });
});
