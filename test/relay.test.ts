import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Store } from "../src/storage/store";
import { captureLogs } from "./helpers/logs";
import { call } from "./helpers/worker";

const HOST = "https://connect.example.com";
const PEAKA_US = "https://peaka.studio/oauth2/callback";
const PEAKA_EU = "https://eu.peaka.studio/oauth2/callback";

// Already in the form the runtime hands the worker, so the expected Location
// is the literal input: any decoding, re-encoding or reordering shows up.
const TRICKY_QUERIES = [
  "code=abc&state=xyz",
  "a=1+2",
  "a=%2B",
  "a=%20b",
  "a=+",
  "a=&b=",
  "a&b&c",
  "a=1&a=2&a=3",
  "b=2&a=1",
  "x=%E2%9C%93&y=%F0%9F%94%91",
  "a=1;b=2",
  "a=b=c==",
  "state=eyJhbGciOi%3D%3D&code=4%2F0AX4XfWh",
  "scope=openid%20email+profile",
  "=",
  "&&&",
  "a=%",
  "a=%zz&b=%4",
  "a=%25",
  "redirect=https%3A%2F%2Fevil.example%2F",
  "a[]=1&a[]=2",
  "a=~!*()%27",
  "a=%00",
  "UPPER=Case&lower=case",
  "a=1&&b=2",
  "%3D=%26",
  "a=%2F%2f%2E",
  "q=?x=1?y",
  "code=c&iss=https%3A%2F%2Faccounts.google.com&state=s&authuser=0&prompt=consent",
];

const logs = captureLogs();

describe("relay (guide 2.b.2)", () => {
  it("logs one line per request with neither the code, the state nor the query", async () => {
    const code = `4/0AX-${crypto.randomUUID()}`;
    const state = `st-${crypto.randomUUID()}`;
    const query = new URLSearchParams({ code, state, scope: "openid" }).toString();
    await call(`${HOST}/oauth2/mycallback?${query}`);
    await call(`${HOST}/oauth2/mycallback?${query}&code=again`);
    await call(`${HOST}/oauth2/mycallback`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: query,
    });
    const lines = logs.json().filter((l) => l.msg === "request");
    expect(lines.map((l) => [l.route, l.status])).toEqual([
      ["relay", 307],
      ["relay", 400],
      ["relay", 307],
    ]);
    logs.expectAbsent(code, state, encodeURIComponent(code), encodeURIComponent(state), "scope=openid");
  });

  it.each(TRICKY_QUERIES)("copies %s byte for byte", async (query) => {
    const res = await call(`${HOST}/oauth2/mycallback?${query}`);
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${PEAKA_US}?${query}`);
  });

  it("copies an 8 KB state byte for byte", async () => {
    const state = `${"s".repeat(4000)}%2B%20+${"t".repeat(4000)}`;
    const res = await call(`${HOST}/oauth2/mycallback?code=c&state=${state}`);
    expect(res.headers.get("location")).toBe(`${PEAKA_US}?code=c&state=${state}`);
  });

  it("keeps what the runtime normalised (raw non-ASCII arrives percent-encoded)", async () => {
    const input = `${HOST}/oauth2/mycallback?name=é&x='`;
    const seen = new URL(new Request(input).url).search;
    const res = await call(input);
    expect(res.headers.get("location")).toBe(`${PEAKA_US}${seen}`);
    expect(seen).toBe("?name=%C3%A9&x=%27");
  });

  it("adds no ? when there is no query, nor for a bare ?", async () => {
    for (const url of [`${HOST}/oauth2/mycallback`, `${HOST}/oauth2/mycallback?`]) {
      const res = await call(url);
      expect(res.status).toBe(307);
      expect(res.headers.get("location")).toBe(PEAKA_US);
    }
  });

  it("answers HEAD with the same 307", async () => {
    const res = await call(`${HOST}/oauth2/mycallback?code=a`, { method: "HEAD" });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${PEAKA_US}?code=a`);
  });

  it("answers a form_post POST with 307 so the browser re-posts the body", async () => {
    const res = await call(`${HOST}/oauth2/mycallback`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "code=abc&state=xyz",
    });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(PEAKA_US);
  });

  it("refuses a form_post body over 16 KiB and a body of another type", async () => {
    const big = await call(`${HOST}/oauth2/mycallback`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `code=c&state=${"x".repeat(17 * 1024)}`,
    });
    expect(big.status).toBe(413);
    const json = await call(`${HOST}/oauth2/mycallback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
  });

  it.each(["code=a&code=b", "state=a&state=b", "iss=a&iss=b&code=c", "code=a&state=s&state=s"])(
    "rejects duplicated parameters: %s",
    async (query) => {
      const res = await call(`${HOST}/oauth2/mycallback?${query}`, { headers: { accept: "text/html" } });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("duplicate_parameter");
    },
  );

  it("counts a parameter repeated between query and form_post body as duplicated", async () => {
    const res = await call(`${HOST}/oauth2/mycallback?state=a`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "code=c&state=b",
    });
    expect(res.status).toBe(400);
  });

  it("answers other methods with 405 and Allow", async () => {
    const res = await call(`${HOST}/oauth2/mycallback`, { method: "PUT", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
  });

  it("touches no KV when only one zone has a callback", async () => {
    const untouchable = new Proxy(env.CONNECTIONS, {
      get() {
        throw new Error("KV must not be used by a single-zone relay");
      },
    });
    const res = await call(`${HOST}/oauth2/mycallback?code=a&state=b`, {}, { CONNECTIONS: untouchable });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${PEAKA_US}?code=a&state=b`);
  });
});

describe("relay zone choice", () => {
  const twoZones = { PEAKA_EU_CALLBACK_URL: PEAKA_EU };

  it("uses PEAKA_ZONE by default", async () => {
    const res = await call(`${HOST}/oauth2/mycallback?code=a`, {}, { ...twoZones, PEAKA_ZONE: "eu" });
    expect(res.headers.get("location")).toBe(`${PEAKA_EU}?code=a`);
  });

  it("uses ZONE_BY_HOST for the request host", async () => {
    const overrides = { ...twoZones, ZONE_BY_HOST: "connect.eu.example.com=eu, connect.example.com=us" };
    const eu = await call("https://connect.eu.example.com/oauth2/mycallback?code=a", {}, overrides);
    expect(eu.headers.get("location")).toBe(`${PEAKA_EU}?code=a`);
    const us = await call(`${HOST}/oauth2/mycallback?code=a`, {}, overrides);
    expect(us.headers.get("location")).toBe(`${PEAKA_US}?code=a`);
  });

  it("prefers the zone of the connection found by state over host and default", async () => {
    const state = `st-${crypto.randomUUID()}`;
    await new Store(env.CONNECTIONS, 3600).putState(state, {
      connectionId: "conn-eu-1",
      returnUrl: "https://app.example.com/x",
      zone: "eu",
    });
    const res = await call(
      `${HOST}/oauth2/mycallback?code=a&state=${state}`,
      {},
      { ...twoZones, ZONE_BY_HOST: "connect.example.com=us" },
    );
    expect(res.headers.get("location")).toBe(`${PEAKA_EU}?code=a&state=${state}`);
  });

  it("reads the state from a form_post body too", async () => {
    const state = `st-${crypto.randomUUID()}`;
    await new Store(env.CONNECTIONS, 3600).putState(state, {
      connectionId: "conn-eu-2",
      returnUrl: "https://app.example.com/x",
      zone: "eu",
    });
    const res = await call(
      `${HOST}/oauth2/mycallback`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `code=a&state=${state}`,
      },
      twoZones,
    );
    expect(res.headers.get("location")).toBe(PEAKA_EU);
  });

  it("falls back to host/default when the state is unknown or KV fails", async () => {
    const unknown = await call(`${HOST}/oauth2/mycallback?state=nope`, {}, twoZones);
    expect(unknown.headers.get("location")).toBe(`${PEAKA_US}?state=nope`);
    const broken = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        if (prop === "get") return () => Promise.reject(new Error("KV down"));
        return Reflect.get(target, prop);
      },
    });
    const res = await call(`${HOST}/oauth2/mycallback?state=s`, {}, { ...twoZones, CONNECTIONS: broken });
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(`${PEAKA_US}?state=s`);
  });

  it("answers 500 naming PEAKA_EU_CALLBACK_URL when relaying into the EU without one", async () => {
    const res = await call(
      `${HOST}/oauth2/mycallback?code=secret-code-1`,
      { headers: { accept: "text/html" } },
      { PEAKA_ZONE: "eu" },
    );
    expect(res.status).toBe(500);
    const page = await res.text();
    expect(page).toContain("config_invalid");
    expect(page).toContain("PEAKA_EU_CALLBACK_URL");
    expect(page).not.toContain("secret-code-1");
  });
});
