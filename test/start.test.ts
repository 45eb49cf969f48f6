import { env } from "cloudflare:test";
import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { signPayload } from "../src/security/start-link";
import { Store } from "../src/storage/store";
import {
  browserGet,
  consentUrl,
  dumpKv,
  HOST,
  LINK_KEY,
  link,
  mockCreate,
  PEAKA_HEADERS,
  RETURN_URL,
  rateLimitOf,
  START_ENV,
  sha256,
} from "./fixtures/start";
import { countingLimiter } from "./helpers/limiter";
import { captureLogs } from "./helpers/logs";
import { API_KEY, EU_API, peaka, US_API } from "./helpers/peaka";
import { call, callWorker, timingOutWorker } from "./helpers/worker";

const logs = captureLogs();
const store = new Store(env.CONNECTIONS, 3600);

/** A client IP of its own for each test, so no two tests share a rate-limit bucket. */
function ip(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `198.${b[0]}.${b[1]}.${b[2]}`;
}

const get = (url: string, overrides = START_ENV, from = ip()) => call(url, browserGet(url, from), overrides);

describe("GET /oauth2/start: a valid link", () => {
  it("creates the connection with the worker's complete URL and 303s to the consent screen", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const state = `st_${crypto.randomUUID()}`;
    const seen = mockCreate({ id, url: consentUrl(state) });

    const res = await get(await link({ name: "Web analytics" }));

    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(consentUrl(state));
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe(`${US_API}/connections/proj_test`);
    expect(seen[0]?.headers).toEqual(PEAKA_HEADERS);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
      name: "Web analytics",
      type: "google_analytics",
      connectionCallback: `${HOST}/oauth2/complete`,
    });

    const record = await store.getConnection(id);
    expect(record).toMatchObject({ returnUrl: RETURN_URL, zone: "us", mode: "relay" });
    expect(await store.getState(state)).toMatchObject({ connectionId: id, returnUrl: RETURN_URL, zone: "us" });
    logs.expectAbsent(state, API_KEY, LINK_KEY);
    expect(logs.json().find((l) => l.msg === "request")).toMatchObject({
      route: "start",
      outcome: "redirected",
      connectionId: id,
      zone: "us",
      status: 303,
    });
  });

  it("brings the user back through the complete route to where they started", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id });
    expect((await get(await link())).status).toBe(303);

    const back = await call(`${HOST}/oauth2/complete?connectionId=${id}?status=success`);
    expect(back.status).toBe(303);
    expect(back.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=success`);
  });

  it("uses the zone the link names, with that zone's API", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const seen = mockCreate({ id }, EU_API);
    const res = await get(await link({ zone: "eu" }));
    expect(res.status).toBe(303);
    expect(seen).toHaveLength(1);
    expect((await store.getConnection(id))?.zone).toBe("eu");
  });

  it("uses ZONE_BY_HOST when the link names no zone", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    const seen = mockCreate({ id }, EU_API);
    const url = (await link()).replace(HOST, "https://connect.eu.example.com");
    const res = await get(url, { ...START_ENV, ZONE_BY_HOST: "connect.eu.example.com=eu" });
    expect(res.status).toBe(303);
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]?.body ?? "").connectionCallback).toBe("https://connect.eu.example.com/oauth2/complete");
  });

  it("keeps http for a loopback host (wrangler dev) and honours COMPLETE_PATH", async () => {
    const seen = mockCreate();
    const url = (await link()).replace(HOST, "http://localhost:8787");
    const res = await get(url, { ...START_ENV, COMPLETE_PATH: "/done" });
    expect(res.status).toBe(303);
    expect(JSON.parse(seen[0]?.body ?? "").connectionCallback).toBe("http://localhost:8787/done");
  });

  it("sends the user back with success when the type needs no consent", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id, url: undefined });
    const res = await get(await link({ type: "postgres" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=success`);
  });

  it("logs a warning when the consent URL's redirect_uri is neither the worker's nor Peaka's callback", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id, url: consentUrl("s1", "https://old-app.example.net/callback") });
    const res = await get(await link());
    expect(res.status).toBe(303);
    expect(logs.json().find((l) => l.msg === "redirect_uri_mismatch")).toEqual({
      level: "warn",
      msg: "redirect_uri_mismatch",
      connectionId: id,
      zone: "us",
      mode: "relay",
      redirectUriHost: "old-app.example.net",
    });
  });

  it.each([
    ["Peaka's callback", "https://peaka.studio/oauth2/callback"],
    ["the worker's callback", `${HOST}/oauth2/mycallback`],
  ])("logs no warning when redirect_uri is %s", async (_, redirectUri) => {
    mockCreate({ url: consentUrl("s2", redirectUri) });
    expect((await get(await link())).status).toBe(303);
    expect(logs.json().some((l) => l.msg === "redirect_uri_mismatch")).toBe(false);
  });
});

describe("GET /oauth2/start: links that must not work", () => {
  it("refuses a reused nonce with the 403 page, without a second call to Peaka", async () => {
    const seen = mockCreate();
    const url = await link();
    expect((await get(url)).status).toBe(303);
    const again = await get(url);
    expect(again.status).toBe(403);
    expect(again.headers.get("content-type")).toContain("text/html");
    const page = await again.text();
    expect(page).toContain("link_invalid");
    expect(page).toContain("already been used");
    expect(seen).toHaveLength(1);
    expect(
      logs
        .json()
        .filter((l) => l.msg === "request")
        .at(-1),
    ).toMatchObject({ outcome: "link_reused" });
  });

  it("keeps the nonce record until the link expires, under a hashed key", async () => {
    mockCreate();
    const url = await link({ ttlSeconds: 300 });
    const nonce = new URL(url).searchParams.get("nonce") ?? "";
    expect((await get(url)).status).toBe(303);
    const { value, metadata } = await env.CONNECTIONS.getWithMetadata(`nonce:${await sha256(nonce)}`);
    expect(metadata).toBeNull();
    const record = JSON.parse(value ?? "{}");
    expect(record.expiresAt - Date.now()).toBeGreaterThan(290_000);
    expect(record.expiresAt - Date.now()).toBeLessThanOrEqual(300_000);
    expect(JSON.stringify(record)).not.toContain(nonce);
  });

  it.each([
    ["returnUrl", "https://app.example.com/elsewhere"],
    ["type", "hubspot"],
    ["name", "Other"],
    ["zone", "eu"],
    ["exp", "9999999999"],
    ["nonce", "AAAAAAAAAAAAAAAAAAAAAA"],
  ])("refuses a link with a tampered %s (403, Peaka untouched)", async (field, value) => {
    const seen = mockCreate();
    const url = new URL(await link());
    url.searchParams.set(field, value);
    const res = await get(url.href);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("link_invalid");
    expect(seen).toHaveLength(0);
  });

  it("refuses a link signed with another key", async () => {
    const seen = mockCreate();
    const res = await get(await link({}, "some-other-key-0123456789abcdefghijkl"));
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("signature does not match");
    expect(seen).toHaveLength(0);
  });

  it("refuses an expired link with link_expired", async () => {
    const seen = mockCreate();
    const res = await get(await link({ now: Date.now() - 601_000 }));
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("link_expired");
    expect(seen).toHaveLength(0);
  });

  it("refuses a link whose expiry is more than 15 minutes away", async () => {
    const fields = {
      type: "google_analytics",
      name: "x",
      returnUrl: RETURN_URL,
      exp: String(Math.floor(Date.now() / 1000) + 3600),
      nonce: crypto.randomUUID(),
    };
    const params = new URLSearchParams(fields);
    params.set("sig", await signPayload(fields, LINK_KEY));
    const res = await get(`${HOST}/oauth2/start?${params}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("further away than a link may live");
  });

  it("refuses a second returnUrl (parameter pollution) with 403", async () => {
    const seen = mockCreate();
    const url = await link();
    for (const polluted of [
      `${url}&returnUrl=https%3A%2F%2Fevil.com`,
      url.replace("?", "?returnUrl=https%3A%2F%2Fevil.com&"),
    ]) {
      const res = await get(polluted);
      expect(res.status).toBe(403);
    }
    expect(seen).toHaveLength(0);
  });

  it("refuses a signed return URL outside RETURN_ORIGINS with 400, before Peaka and without spending the nonce", async () => {
    const seen = mockCreate();
    const url = await link({ returnUrl: "https://evil.example.com/" });
    const res = await get(url);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("return_url_not_allowed");
    expect(seen).toHaveLength(0);
    const nonce = new URL(url).searchParams.get("nonce") ?? "";
    expect(await env.CONNECTIONS.get(`nonce:${await sha256(nonce)}`)).toBeNull();
  });

  it.each([
    ["an invalid type", { type: "no spaces allowed" }],
    ["a control character in the name", { name: "a\u0007b" }],
  ])("refuses a signed link with %s (400)", async (_, fields) => {
    const seen = mockCreate();
    const res = await get(await link(fields));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("invalid_request");
    expect(seen).toHaveLength(0);
  });

  it("answers HEAD with 405 and leaves the link usable", async () => {
    mockCreate();
    const url = await link();
    const head = await call(url, { method: "HEAD" }, START_ENV);
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("GET");
    expect((await get(url)).status).toBe(303);
  });

  it("answers 503 api_disabled when LINK_SIGNING_KEY is unset", async () => {
    const res = await get(await link(), {});
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("Signed start links are not enabled");
  });

  it("answers 500 naming LINK_SIGNING_KEY (never its value) when it is too short", async () => {
    const weak = "short-key-123";
    const res = await get(await link(), { LINK_SIGNING_KEY: weak });
    expect(res.status).toBe(500);
    const page = await res.text();
    expect(page).toContain("LINK_SIGNING_KEY");
    expect(page).not.toContain(weak);
    logs.expectAbsent(weak);
  });

  it("refuses links in exchange mode: a link cannot carry the OAuth app's secret", async () => {
    const seen = mockCreate();
    const res = await get(await link(), { ...START_ENV, CALLBACK_MODE: "exchange" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("server API");
    expect(seen).toHaveLength(0);
  });

  it("sends browsers to ERROR_URL when one is configured", async () => {
    const res = await get(await link({ now: Date.now() - 700_000 }), {
      ...START_ENV,
      ERROR_URL: "https://app.example.com/error",
    });
    expect(res.status).toBe(303);
    const target = new URL(res.headers.get("location") ?? "");
    expect(target.origin + target.pathname).toBe("https://app.example.com/error");
    expect(target.searchParams.get("error")).toBe("link_expired");
  });
});

describe("GET /oauth2/start: Peaka failures", () => {
  it.each([
    [500, "peaka_unavailable"],
    [401, "peaka_rejected"],
    [404, "peaka_rejected"],
  ])("Peaka %i sends the user back with status=fail&error=%s", async (status, error) => {
    mockCreate({ status });
    const res = await get(await link());
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}&status=fail&error=${error}`);
    expect(logs.json().find((l) => l.msg === "request")).toMatchObject({
      route: "start",
      error,
      cause: "PeakaStatusError",
      peakaStatus: status,
      outcome: "returned",
    });
  });

  it("a Peaka timeout sends the user back with peaka_unavailable", async () => {
    const { worker, asked, expire } = timingOutWorker();
    peaka.use(
      http.post(`${US_API}/connections/proj_test`, async () => {
        expire();
        await delay("infinite");
        return HttpResponse.json({ id: "late" });
      }),
    );
    const url = await link();
    const res = await callWorker(worker, url, browserGet(url, ip()), START_ENV);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}&status=fail&error=peaka_unavailable`);
    expect(asked).toEqual([200]);
  });

  it.each([
    ["a body that is not JSON", { raw: "<html>oops</html>" }],
    ["an id with forbidden characters", { id: "../../etc", url: consentUrl("s") }],
    ["a consent URL that is not https", { url: "javascript:alert(1)" }],
    ["a consent URL on plain http", { url: "http://accounts.example.com/auth" }],
  ])("%s from Peaka counts as peaka_rejected", async (_, answer) => {
    mockCreate(answer);
    const res = await get(await link());
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get("location") ?? "").searchParams.get("error")).toBe("peaka_rejected");
  });
});

describe("GET /oauth2/start: storage failure", () => {
  it("sends the user back with storage_unavailable and the connection id when KV refuses the records", async () => {
    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id });
    const kv = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "put") {
          // The nonce is written; the connection and state records are not.
          return (key: string, ...rest: [string, KVNamespacePutOptions?]) =>
            key.startsWith("nonce:") ? target.put(key, ...rest) : Promise.reject(new Error("KV put failed"));
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await get(await link(), { ...START_ENV, CONNECTIONS: kv });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=fail&error=storage_unavailable`);
  });
});

describe("GET /oauth2/start: rate limit", () => {
  it("answers 429 with Retry-After once one client IP passes the limit; other IPs go on", async () => {
    const { limit, period } = await rateLimitOf("START_RATE_LIMITER");
    const limiter = countingLimiter(limit);
    const limitedEnv = { ...START_ENV, START_RATE_LIMITER: limiter };
    const client = ip();
    // Invalid links are counted too: the limit runs before any other work.
    const junk = `${HOST}/oauth2/start?type=x`;
    for (let i = 0; i < limit; i++) {
      expect((await get(junk, limitedEnv, client)).status).toBe(403);
    }
    const limited = await get(junk, limitedEnv, client);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe(String(period));
    expect(await limited.text()).toContain("rate_limited");
    // Counted by the client IP (CF-Connecting-IP).
    expect(new Set(limiter.keys)).toEqual(new Set([client]));
    expect((await get(junk, limitedEnv, ip())).status).toBe(403);
  });

  it("goes through, and says so in the log, when the binding is missing", async () => {
    mockCreate();
    const res = await get(await link(), { ...START_ENV, START_RATE_LIMITER: undefined });
    expect(res.status).toBe(303);
    expect(logs.json().find((l) => l.msg === "request")).toMatchObject({ route: "start", rateLimit: "unbound" });
  });

  it("goes through, and says so in the log, when the binding fails", async () => {
    mockCreate();
    const broken: RateLimit = {
      limit: () => Promise.reject(new Error("limiter down")),
    };
    const res = await get(await link(), { ...START_ENV, START_RATE_LIMITER: broken });
    expect(res.status).toBe(303);
    expect(logs.json().find((l) => l.msg === "request")).toMatchObject({ rateLimit: "failed" });
  });
});

describe("GET /oauth2/start: secrets", () => {
  it("keeps the link key and Peaka key out of logs, KV values and the response", async () => {
    const state = `st_${crypto.randomUUID()}`;
    mockCreate({ url: consentUrl(state) });
    const res = await get(await link());
    const body = await res.text();
    const headers = JSON.stringify([...res.headers]);
    for (const secret of [LINK_KEY, API_KEY]) {
      expect(body).not.toContain(secret);
      expect(headers).not.toContain(secret);
    }
    for (const [key, value] of await dumpKv()) {
      for (const secret of [LINK_KEY, API_KEY, state]) {
        expect(key).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
    logs.expectAbsent(LINK_KEY, API_KEY, state);
  });
});
