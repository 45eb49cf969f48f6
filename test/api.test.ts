import { env } from "cloudflare:test";
import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { Store } from "../src/storage/store";
import {
  ADMIN_TOKEN,
  apiInit,
  consentUrl,
  dumpKv,
  freshToken,
  HOST,
  mockCreate,
  PEAKA_HEADERS,
  RETURN_URL,
  rateLimitOf,
  sha256,
} from "./fixtures/start";
import { countingLimiter } from "./helpers/limiter";
import { captureLogs } from "./helpers/logs";
import { API_KEY, connectionJson, EU_API, mockExchange, peaka, US_API } from "./helpers/peaka";
import { BROWSER, call, callWorker, type Overrides, timingOutWorker } from "./helpers/worker";

const logs = captureLogs();
const store = new Store(env.CONNECTIONS, 3600);
const CONNECTIONS = `${HOST}/api/v1/connections`;
const SESSION_ID = expect.stringMatching(/^cs_[A-Za-z0-9_-]{24}$/);
const CLIENT = { clientId: "client-123.apps.example.com", clientSecret: "cs_live_9f8e7d6c5b4a" };

/** Each test its own admin token, so no two tests share a rate-limit bucket. */
function api(overrides: Overrides = {}) {
  const token = freshToken();
  const vars: Overrides = { ADMIN_TOKEN: token, ...overrides };
  return {
    token,
    post: (body: unknown, extra: Overrides = {}) =>
      call(CONNECTIONS, apiInit("POST", body, token), { ...vars, ...extra }),
    put: (id: string, body: unknown) => call(`${CONNECTIONS}/${id}/return`, apiInit("PUT", body, token), vars),
    raw: (url: string, init: RequestInit) => call(url, init, vars),
  };
}

const create = (extra: object = {}) => ({
  type: "google_analytics",
  name: "Analytics",
  returnUrl: RETURN_URL,
  ...extra,
});

async function json(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as Record<string, unknown>;
}

describe("POST /api/v1/connections: what the worker sends to Peaka", () => {
  it("Peaka's OAuth app (2.a), relay mode: connectionCallback from the request host; 201 with the consent URL", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const seen = mockCreate({ id, url: consentUrl("st-a") });
    const res = await api().post(create());

    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toEqual({
      sessionId: SESSION_ID,
      connectionId: id,
      startUrl: expect.stringMatching(/^https:\/\/connect\.example\.com\/oauth2\/begin\?t=[A-Za-z0-9_-]{43}$/),
      consentUrl: consentUrl("st-a"),
      zone: "us",
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const expiresIn = Date.parse(body.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(3_590_000);
    expect(expiresIn).toBeLessThanOrEqual(3_600_000);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe("POST");
    expect(seen[0]?.url).toBe(`${US_API}/connections/proj_test`);
    expect(seen[0]?.headers).toEqual(PEAKA_HEADERS);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
      name: "Analytics",
      type: "google_analytics",
      connectionCallback: `${HOST}/oauth2/complete`,
    });
  });

  it("own OAuth app with Peaka's callback (2.b.1/2.b.2), relay mode: the credential passes through", async () => {
    const seen = mockCreate();
    const res = await api().post(create({ credential: CLIENT }));
    expect(res.status).toBe(201);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
      name: "Analytics",
      type: "google_analytics",
      connectionCallback: `${HOST}/oauth2/complete`,
      credential: CLIENT,
    });
    expect(seen[0]?.headers).toEqual(PEAKA_HEADERS);
  });

  it("own callback (2.b.3), exchange mode: credential.redirectUrl is the worker's callback", async () => {
    const seen = mockCreate();
    const res = await api({ CALLBACK_MODE: "exchange", CALLBACK_PATH: "/cb" }).post(create({ credential: CLIENT }));
    expect(res.status).toBe(201);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
      name: "Analytics",
      type: "google_analytics",
      credential: { ...CLIENT, redirectUrl: `${HOST}/cb` },
    });
    expect(seen[0]?.headers).toEqual(PEAKA_HEADERS);
  });

  it.each([
    ["relay", {}],
    ["exchange", { CALLBACK_MODE: "exchange" }],
  ])("token credentials (option 1), %s mode: passed unchanged, no callback, no consent URL", async (_, mode) => {
    const id = `conn_${crypto.randomUUID()}`;
    const seen = mockCreate({ id, url: undefined });
    const credential = { token: "sk_live_51Hx-stripe-secret" };
    const res = await api(mode).post(create({ type: "stripe", name: "Payments", credential }));
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toEqual({ sessionId: SESSION_ID, connectionId: id, zone: "us", expiresAt: expect.any(String) });
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ name: "Payments", type: "stripe", credential });
    expect(JSON.stringify(body)).not.toContain("sk_live");
  });

  it("tokens obtained by the partner's own OAuth (option 1 with clientId/clientSecret) pass unchanged", async () => {
    const seen = mockCreate({ url: undefined });
    const credential = { ...CLIENT, accessToken: "ya29.access-token", refreshToken: "1//refresh-token" };
    const res = await api({ CALLBACK_MODE: "exchange" }).post(create({ type: "hubspot", credential }));
    expect(res.status).toBe(201);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ name: "Analytics", type: "hubspot", credential });
  });

  it("sends a zone's request to that zone's API with that zone's project and key", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const seen = mockCreate({ id }, EU_API, "proj_eu");
    const res = await api({ PEAKA_EU_PROJECT_ID: "proj_eu", PEAKA_EU_API_KEY: "eu-partner-key-77" }).post(
      create({ zone: "eu" }),
    );
    expect(res.status).toBe(201);
    expect((await json(res)).zone).toBe("eu");
    expect(seen[0]?.headers.authorization).toBe("Bearer eu-partner-key-77");
    expect((await store.getConnection(id))?.zone).toBe("eu");
  });

  it("picks the zone by host when the body names none", async () => {
    const seen = mockCreate({}, EU_API);
    const a = api({ ZONE_BY_HOST: "connect.eu.example.com=eu" });
    const res = await a.raw("https://connect.eu.example.com/api/v1/connections", apiInit("POST", create(), a.token));
    expect(res.status).toBe(201);
    expect(JSON.parse(seen[0]?.body ?? "").connectionCallback).toBe("https://connect.eu.example.com/oauth2/complete");
  });

  it("names the missing variable when the zone asked for has no key", async () => {
    const res = await api({ PEAKA_API_KEY: "", PEAKA_US_API_KEY: "us-only-key" }).post(create({ zone: "eu" }));
    expect(res.status).toBe(500);
    const body = await json(res);
    expect(body.error).toBe("config_invalid");
    expect(body.message).toContain("PEAKA_EU_API_KEY");
  });
});

describe("POST /api/v1/connections: what the worker stores", () => {
  it("writes the connection record and, for the consent URL's state, a hashed state record", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    mockCreate({ id, url: consentUrl(state) });
    const before = Date.now();
    expect((await api().post(create())).status).toBe(201);

    const conn = JSON.parse((await env.CONNECTIONS.get(`conn:${id}`)) ?? "{}");
    expect(conn).toEqual({
      v: 1,
      returnUrl: RETURN_URL,
      zone: "us",
      mode: "relay",
      createdAt: expect.any(Number),
      expiresAt: expect.any(Number),
      sessionId: SESSION_ID,
    });
    expect(conn.createdAt).toBeGreaterThanOrEqual(before);
    const stateRecord = JSON.parse((await env.CONNECTIONS.get(`state:${await sha256(state)}`)) ?? "{}");
    expect(stateRecord).toEqual({
      v: 1,
      connectionId: id,
      returnUrl: RETURN_URL,
      zone: "us",
      expiresAt: expect.any(Number),
      sessionId: conn.sessionId,
    });
  });

  it("BROWSER_BINDING=off: the two records, the session and the startUrl's; no state record without a state", async () => {
    const puts: string[] = [];
    const kv = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "put") {
          return (key: string, ...rest: [string]) => {
            puts.push(key);
            return target.put(key, ...rest);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    mockCreate({ url: consentUrl("with-state") });
    expect((await api({ CONNECTIONS: kv }).post(create())).status).toBe(201);
    // The records are written in parallel: their order is not the point.
    expect(puts.map((k) => k.split(":")[0]).sort()).toEqual(["begin", "conn", "sess", "state"]);
    puts.length = 0;
    mockCreate({ url: "https://provider.example.com/consent?client_id=x" });
    expect((await api({ CONNECTIONS: kv }).post(create())).status).toBe(201);
    expect(puts.map((k) => k.split(":")[0]).sort()).toEqual(["begin", "conn", "sess"]);
  });

  it("answers 503 storage_unavailable naming the connection when KV refuses the write", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id });
    const kv = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        if (prop === "put") return () => Promise.reject(new Error("KV put failed"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await api({ CONNECTIONS: kv }).post(create());
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ error: "storage_unavailable", connectionId: id });
  });
});

describe("the state record drives the callback routes", () => {
  it("relay with two relay zones: the record's zone picks Peaka's EU callback", async () => {
    const state = `st_${crypto.randomUUID()}`;
    mockCreate({ url: consentUrl(state, `${HOST}/oauth2/mycallback`) }, EU_API);
    const zones: Overrides = { PEAKA_EU_CALLBACK_URL: "https://eu.peaka.studio/oauth2/callback" };
    const res = await api(zones).post(create({ zone: "eu" }));
    expect(res.status).toBe(201);
    expect((await json(res)).warnings).toBeUndefined();

    const relayed = await call(`${HOST}/oauth2/mycallback?code=c0de&state=${state}`, { headers: BROWSER }, zones);
    expect(relayed.status).toBe(307);
    expect(relayed.headers.get("location")).toBe(`https://eu.peaka.studio/oauth2/callback?code=c0de&state=${state}`);
    const other = await call(`${HOST}/oauth2/mycallback?code=c0de&state=unknown-${state}`, { headers: BROWSER }, zones);
    expect(other.headers.get("location")).toBe(`https://peaka.studio/oauth2/callback?code=c0de&state=unknown-${state}`);
  });

  it("exchange, user denied: back to the return URL with the provider's error, no call to Peaka", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    const exchange: Overrides = { CALLBACK_MODE: "exchange" };
    mockCreate({ id, url: consentUrl(state, `${HOST}/oauth2/mycallback`) });
    expect((await api(exchange).post(create({ credential: CLIENT }))).status).toBe(201);
    const calls = mockExchange(() => connectionJson(id));

    const res = await call(
      `${HOST}/oauth2/mycallback?error=access_denied&error_description=User+said+no&state=${state}`,
      { headers: BROWSER },
      exchange,
    );
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get("location") ?? "");
    expect(back.origin + back.pathname).toBe("https://app.example.com/settings");
    expect(Object.fromEntries(back.searchParams)).toEqual({
      tab: "data",
      connectionId: id,
      status: "fail",
      error: "access_denied",
      error_description: "User said no",
    });
    expect(calls).toHaveLength(0);
  });

  it("exchange, Peaka fails: back to the return URL with peaka_unavailable", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    const exchange: Overrides = { CALLBACK_MODE: "exchange" };
    mockCreate({ id, url: consentUrl(state, `${HOST}/oauth2/mycallback`) });
    expect((await api(exchange).post(create({ credential: CLIENT }))).status).toBe(201);
    mockExchange(() => HttpResponse.json({ message: "down" }, { status: 500 }));

    const res = await call(`${HOST}/oauth2/mycallback?code=abc&state=${state}`, { headers: BROWSER }, exchange);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=fail&error=peaka_unavailable`);
  });

  it("exchange, success: back to the return URL with status=success", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    const exchange: Overrides = { CALLBACK_MODE: "exchange" };
    mockCreate({ id, url: consentUrl(state, `${HOST}/oauth2/mycallback`) });
    expect((await api(exchange).post(create({ credential: CLIENT }))).status).toBe(201);
    mockExchange(() => connectionJson(id));
    const res = await call(`${HOST}/oauth2/mycallback?code=abc2&state=${state}`, { headers: BROWSER }, exchange);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=success`);
  });
});

describe("POST /api/v1/connections: redirect_uri check", () => {
  it("warns in the answer and the log when redirect_uri is not one of ours", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id, url: consentUrl("s", "https://legacy.example.org/oauth/callback") });
    const res = await api().post(create());
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.warnings).toEqual([
      {
        code: "redirect_uri_mismatch",
        message: expect.stringContaining("https://legacy.example.org/oauth/callback"),
      },
    ]);
    const message = (body.warnings as { message: string }[])[0]?.message ?? "";
    expect(message).toContain(`${HOST}/oauth2/mycallback or https://peaka.studio/oauth2/callback`);
    expect(logs.json().find((l) => l.msg === "redirect_uri_mismatch")).toMatchObject({
      level: "warn",
      connectionId: id,
      redirectUriHost: "legacy.example.org",
    });
  });

  it("in exchange mode, Peaka's own callback is a mismatch too", async () => {
    mockCreate({ url: consentUrl("s", "https://peaka.studio/oauth2/callback") });
    const res = await api({ CALLBACK_MODE: "exchange" }).post(create({ credential: CLIENT }));
    const body = await json(res);
    expect(body.warnings).toEqual([
      { code: "redirect_uri_mismatch", message: expect.stringContaining(`expects ${HOST}/oauth2/mycallback.`) },
    ]);
  });

  it.each([
    ["relay, the worker's callback", {}, `${HOST}/oauth2/mycallback`],
    ["relay, Peaka's callback", {}, "https://peaka.studio/oauth2/callback"],
    ["exchange, the worker's callback", { CALLBACK_MODE: "exchange" }, `${HOST}/oauth2/mycallback`],
  ])("no warning for %s", async (_, mode, redirectUri) => {
    mockCreate({ url: consentUrl("s", redirectUri) });
    const res = await api(mode).post(create({ credential: CLIENT }));
    expect(res.status).toBe(201);
    expect((await json(res)).warnings).toBeUndefined();
    expect(logs.json().some((l) => l.msg === "redirect_uri_mismatch")).toBe(false);
  });
});

describe("POST /api/v1/connections: refused requests", () => {
  it.each([
    ["a missing field", { name: "x", returnUrl: RETURN_URL }, [{ field: "type", problem: "is required" }]],
    [
      "a bad zone and an over-long name",
      create({ zone: "ap", name: "n".repeat(129) }),
      [
        { field: "name", problem: "must be 1-128 characters without control characters" },
        { field: "zone", problem: "must be one of: us, eu" },
      ],
    ],
    [
      "a caller-supplied connectionCallback",
      create({ connectionCallback: "https://evil.com/cb" }),
      [{ field: "connectionCallback", problem: "is not an accepted field" }],
    ],
    [
      "a caller-supplied redirectUrl",
      create({ credential: { ...CLIENT, redirectUrl: "https://evil.com/cb" } }),
      [{ field: "credential.redirectUrl", problem: "is set by this service from CALLBACK_PATH; leave it out" }],
    ],
    [
      "a clientId without its secret",
      create({ credential: { clientId: "abc" } }),
      [{ field: "credential.clientSecret", problem: "is required with the other" }],
    ],
    [
      "a non-string credential value",
      create({ credential: { token: 42 } }),
      [{ field: "credential.token", problem: "must be a string" }],
    ],
    [
      "an empty credential",
      create({ credential: {} }),
      [{ field: "credential", problem: expect.stringContaining("must not be empty") }],
    ],
    ["an array body", [create()], [{ field: "(body)", problem: "must be a JSON object" }]],
    ["a body that is not JSON", "{not json", [{ field: "(body)", problem: "is not valid JSON" }]],
  ])("400 listing the bad fields for %s, before calling Peaka", async (_, body, fields) => {
    const seen = mockCreate();
    const res = await api().post(body);
    expect(res.status).toBe(400);
    const answer = await json(res);
    expect(answer.error).toBe("invalid_request");
    expect(answer.fields).toEqual(fields);
    expect(seen).toHaveLength(0);
  });

  it("exchange mode without the OAuth app's credentials: 400 naming both fields", async () => {
    const seen = mockCreate();
    const res = await api({ CALLBACK_MODE: "exchange" }).post(create());
    expect(res.status).toBe(400);
    expect(((await json(res)).fields as { field: string }[]).map((f) => f.field)).toEqual([
      "credential.clientId",
      "credential.clientSecret",
    ]);
    expect(seen).toHaveLength(0);
  });

  it("never echoes credential values or invalid credential keys in errors", async () => {
    const res = await api().post(create({ credential: { "sk_live_key as key": "v", token: "" } }));
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain("sk_live_key");
    expect(JSON.parse(text).fields).toEqual([
      { field: "credential", problem: "keys must be identifiers such as clientId" },
      { field: "credential.token", problem: "must not be empty" },
    ]);
  });

  it("refuses a return URL outside RETURN_ORIGINS before calling Peaka", async () => {
    const seen = mockCreate();
    const res = await api().post(create({ returnUrl: "https://app.example.com.evil.com/settings" }));
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      error: "return_url_not_allowed",
      fields: [{ field: "returnUrl", problem: "must have an origin listed in RETURN_ORIGINS" }],
    });
    expect(seen).toHaveLength(0);
  });

  it("415 for a body that is not JSON by Content-Type, 413 for an oversized one", async () => {
    const a = api();
    const form = await a.raw(CONNECTIONS, {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}`, "content-type": "application/x-www-form-urlencoded" },
      body: "type=x",
    });
    expect(form.status).toBe(415);
    expect((await json(form)).error).toBe("unsupported_media_type");
    const big = await a.post(
      create({
        name: "x",
        credential: {
          token: "t".repeat(8000),
          a: "a".repeat(8000),
          b: "b".repeat(8000),
          c: "c".repeat(8000),
          d: "d".repeat(8000),
        },
      }),
    );
    expect(big.status).toBe(413);
  });

  it.each([
    [500, 503, "peaka_unavailable"],
    [429, 503, "peaka_unavailable"],
    [401, 502, "peaka_rejected"],
    [400, 502, "peaka_rejected"],
  ])("Peaka %i: %i %s as JSON", async (peakaStatus, status, error) => {
    mockCreate({ status: peakaStatus });
    const res = await api().post(create());
    expect(res.status).toBe(status);
    expect(await json(res)).toMatchObject({ error, requestId: expect.any(String) });
  });

  it("a Peaka timeout: 503 peaka_unavailable, with PEAKA_TIMEOUT_MS as the deadline", async () => {
    const { worker, asked, expire } = timingOutWorker();
    peaka.use(
      http.post(`${US_API}/connections/proj_test`, async () => {
        expire();
        await delay("infinite");
        return HttpResponse.json({ id: "late" });
      }),
    );
    const token = freshToken();
    const res = await callWorker(worker, CONNECTIONS, apiInit("POST", create(), token), { ADMIN_TOKEN: token });
    expect(res.status).toBe(503);
    expect((await json(res)).error).toBe("peaka_unavailable");
    expect(asked).toEqual([200]);
  });

  it("a malformed answer from Peaka: 502 peaka_rejected", async () => {
    mockCreate({ raw: "{" });
    const res = await api().post(create());
    expect(res.status).toBe(502);
    expect((await json(res)).error).toBe("peaka_rejected");
  });
});

describe("the API's door", () => {
  it("503 api_disabled when ADMIN_TOKEN is unset, whatever the caller sends", async () => {
    const res = await call(CONNECTIONS, apiInit("POST", create(), ADMIN_TOKEN), {});
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ error: "api_disabled" });
  });

  it("500 naming ADMIN_TOKEN, never its value, when it is too short", async () => {
    const res = await call(CONNECTIONS, apiInit("POST", create(), "weak-token"), { ADMIN_TOKEN: "weak-token" });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain("ADMIN_TOKEN");
    expect(text).not.toContain("weak-token");
    logs.expectAbsent("weak-token");
    // Only the API is affected: the callback routes go on.
    const relayed = await call(
      `${HOST}/oauth2/mycallback?code=c&state=s`,
      { headers: BROWSER },
      { ADMIN_TOKEN: "weak-token" },
    );
    expect(relayed.status).toBe(307);
  });

  it.each([
    ["no Authorization header", undefined],
    ["a wrong token", "Bearer adm_wrong-token-0000000000000000000000"],
    ["the token with one character changed", "CHANGED"],
    ["the token as a prefix", "PREFIX"],
    ["another scheme", "BASIC"],
    ["an empty bearer", "Bearer "],
  ])("401 JSON with WWW-Authenticate for %s, and Peaka untouched", async (_, header) => {
    const seen = mockCreate();
    const a = api();
    const value =
      header === "CHANGED"
        ? `Bearer ${a.token.slice(0, -1)}${a.token.endsWith("0") ? "1" : "0"}`
        : header === "PREFIX"
          ? `Bearer ${a.token.slice(0, -1)}`
          : header === "BASIC"
            ? `Basic ${btoa(`admin:${a.token}`)}`
            : header;
    const res = await a.raw(CONNECTIONS, {
      method: "POST",
      headers: { "content-type": "application/json", ...(value ? { authorization: value } : {}) },
      body: JSON.stringify(create()),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="peaka-connect-edge"');
    expect(await json(res)).toMatchObject({ error: "unauthorized" });
    expect(seen).toHaveLength(0);
  });

  it("accepts the scheme in any case", async () => {
    mockCreate();
    const a = api();
    const init = apiInit("POST", create(), a.token);
    const res = await a.raw(CONNECTIONS, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `bearer ${a.token}` },
    });
    expect(res.status).toBe(201);
  });

  it("answers JSON even to a browser, 405 for other methods and 404 for unknown API paths", async () => {
    const a = api();
    const get = await a.raw(CONNECTIONS, { headers: { ...BROWSER, authorization: `Bearer ${a.token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await json(get)).error).toBe("method_not_allowed");
    const unknown = await a.raw(`${HOST}/api/v1/other`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toBe("not_found");
    const unauthorized = await call(`${HOST}/api/v1/other`, { headers: BROWSER }, { ADMIN_TOKEN });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("content-type")).toContain("application/json");
  });
});

describe("PUT /api/v1/connections/{connectionId}/return", () => {
  it("stores the return URL so the complete route brings the user back", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const res = await api().put(id, { returnUrl: "https://app.example.com/after" });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      sessionId: SESSION_ID,
      connectionId: id,
      zone: "us",
      expiresAt: expect.any(String),
    });
    expect(await store.getConnection(id)).toMatchObject({ returnUrl: "https://app.example.com/after", zone: "us" });

    const back = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`);
    expect(back.headers.get("location")).toBe(`https://app.example.com/after?connectionId=${id}&status=success`);
  });

  it("with the consent URL, also writes the state record (exchange user-denied then resolves)", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    const exchange: Overrides = { CALLBACK_MODE: "exchange" };
    const res = await api(exchange).put(id, {
      returnUrl: RETURN_URL,
      zone: "eu",
      consentUrl: consentUrl(state, `${HOST}/oauth2/mycallback`),
    });
    expect(res.status).toBe(200);
    expect((await json(res)).warnings).toBeUndefined();
    expect(await store.getState(state)).toMatchObject({ connectionId: id, zone: "eu" });
    const denied = await call(
      `${HOST}/oauth2/mycallback?error=access_denied&state=${state}`,
      { headers: BROWSER },
      exchange,
    );
    expect(denied.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=fail&error=access_denied`);
  });

  it("warns about a consent URL with a foreign redirect_uri", async () => {
    const res = await api().put(`conn_${crypto.randomUUID()}`, {
      returnUrl: RETURN_URL,
      consentUrl: consentUrl("s", "https://elsewhere.example.com/cb"),
    });
    expect((await json(res)).warnings).toEqual([{ code: "redirect_uri_mismatch", message: expect.any(String) }]);
  });

  it.each([
    ["a connection id with forbidden characters", "bad%20id", { returnUrl: RETURN_URL }, "connectionId"],
    ["a disallowed return URL", "conn_ok", { returnUrl: "https://evil.com/" }, "returnUrl"],
    ["a missing return URL", "conn_ok", {}, "returnUrl"],
    ["an unknown field", "conn_ok", { returnUrl: RETURN_URL, name: "x" }, "name"],
    ["a consent URL that is not a URL", "conn_ok", { returnUrl: RETURN_URL, consentUrl: "not a url" }, "consentUrl"],
  ])("400 for %s, storing nothing", async (_, id, body, field) => {
    const res = await api().put(id, body);
    expect(res.status).toBe(400);
    expect(((await json(res)).fields as { field: string }[]).map((f) => f.field)).toEqual([field]);
    expect(await env.CONNECTIONS.get(`conn:${id}`)).toBeNull();
  });

  it("405 for other methods", async () => {
    const a = api();
    const res = await a.raw(`${CONNECTIONS}/conn_x/return`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("PUT");
  });
});

describe("the API's rate limit", () => {
  it("429 with Retry-After once one token passes the limit; another token goes on", async () => {
    const { limit, period } = await rateLimitOf("API_RATE_LIMITER");
    const limiter = countingLimiter(limit);
    const a = api({ API_RATE_LIMITER: limiter });
    // Invalid bodies are counted too: the limit runs right after authentication.
    for (let i = 0; i < limit; i++) expect((await a.post("{}")).status).toBe(400);
    const limited = await a.post("{}");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe(String(period));
    expect((await json(limited)).error).toBe("rate_limited");
    expect(
      logs
        .json()
        .filter((l) => l.msg === "request")
        .at(-1),
    ).toMatchObject({ rateLimit: "exceeded" });
    // Counted by the token's SHA-256, never by the token itself.
    expect(new Set(limiter.keys)).toEqual(new Set([await sha256(a.token)]));
    expect((await api({ API_RATE_LIMITER: limiter }).post("{}")).status).toBe(400);
  });

  it("an unauthenticated request is refused before it is counted", async () => {
    const limiter = countingLimiter(1);
    const res = await call(CONNECTIONS, apiInit("POST", {}, "wrong-token-".repeat(4)), {
      ADMIN_TOKEN: freshToken(),
      API_RATE_LIMITER: limiter,
    });
    expect(res.status).toBe(401);
    expect(limiter.keys).toEqual([]);
  });

  it("goes through, and says so in the log, without the binding", async () => {
    mockCreate();
    const res = await api({ API_RATE_LIMITER: undefined }).post(create());
    expect(res.status).toBe(201);
    expect(logs.json().find((l) => l.msg === "request")).toMatchObject({ route: "api", rateLimit: "unbound" });
  });
});

describe("secrets stay out of logs, KV and answers", () => {
  it("for every credential variant and both modes", async () => {
    const secrets = {
      clientSecret: "cs_secret_5b3f9e1d",
      token: "sk_live_token_8a7c6e",
      accessToken: "ya29.access_2c4e6a",
      refreshToken: "1//refresh_9d8c7b",
    };
    const a = api();
    const states: string[] = [];
    for (const [mode, credential] of [
      ["relay", { clientId: "cid", clientSecret: secrets.clientSecret }],
      ["exchange", { clientId: "cid", clientSecret: secrets.clientSecret }],
      ["relay", { token: secrets.token }],
      [
        "exchange",
        {
          clientId: "cid",
          clientSecret: secrets.clientSecret,
          accessToken: secrets.accessToken,
          refreshToken: secrets.refreshToken,
        },
      ],
    ] as const) {
      const state = `st_${crypto.randomUUID()}`;
      states.push(state);
      mockCreate({ url: consentUrl(state, "https://wrong.example.com/cb") });
      const res = await a.post(create({ credential }), { CALLBACK_MODE: mode });
      expect(res.status).toBe(201);
      const text = `${await res.text()} ${JSON.stringify([...res.headers])}`;
      for (const secret of [...Object.values(secrets), a.token, API_KEY]) expect(text).not.toContain(secret);
    }
    // A failure answer is no leak either.
    mockCreate({ status: 500 });
    const failed = await a.post(create({ credential: { token: secrets.token } }));
    expect(await failed.text()).not.toContain(secrets.token);

    const kv = await dumpKv();
    expect(kv.size).toBeGreaterThan(0);
    for (const [key, value] of kv) {
      for (const secret of [...Object.values(secrets), ...states, a.token, API_KEY]) {
        expect(key).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
    logs.expectAbsent(...Object.values(secrets), ...states, a.token, API_KEY);
  });
});
