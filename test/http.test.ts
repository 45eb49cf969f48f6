import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../package.json";
import { withParams } from "../src/core/way-back";
import { rawQuery } from "../src/edge/query";
import { parseCompletion } from "../src/platforms/peaka/callbacks";
import { Store } from "../src/storage/store";
import { VERSION } from "../src/version";
import { BROWSER, call } from "./helpers/worker";

const HOST = "https://connect.example.com";

describe("headers on every response", () => {
  const cases: [string, () => Promise<Response>][] = [
    ["relay 307", () => call(`${HOST}/oauth2/mycallback?code=a`)],
    [
      "completion 303",
      async () => {
        const id = `conn-${crypto.randomUUID()}`;
        await new Store(env.CONNECTIONS, 3600).putConnection(id, {
          returnUrl: "https://app.example.com/",
          zone: "us",
          mode: "relay",
          createdAt: 0,
        });
        return call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`);
      },
    ],
    ["error page", () => call(`${HOST}/oauth2/complete?connectionId=nope`, { headers: BROWSER })],
    ["JSON error", () => call(`${HOST}/oauth2/complete`, { headers: { accept: "application/json" } })],
    ["404", () => call(`${HOST}/wp-admin`, { headers: BROWSER })],
    ["health", () => call(`${HOST}/healthz`)],
    ["config error", () => call(`${HOST}/oauth2/mycallback`, {}, { PEAKA_ZONE: "x" })],
  ];

  it.each(cases)("%s", async (_name, send) => {
    const res = await send();
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect([301, 302, 308]).not.toContain(res.status);
  });

  it("serves error pages with a restrictive CSP and nothing external", async () => {
    const res = await call(`${HOST}/nothing-here`, { headers: BROWSER });
    expect(res.status).toBe(404);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const page = await res.text();
    expect(page).not.toMatch(/(src|href)=/);
    expect(page).toContain("not_found");
  });

  it("escapes what it echoes", async () => {
    const res = await call(`${HOST}/oauth2/complete?connectionId=%3Cscript%3E`, { headers: BROWSER });
    expect(await res.text()).not.toContain("<script>");
  });
});

describe("/healthz", () => {
  it("reports version, mode and zones without secrets", async () => {
    const res = await call(`${HOST}/healthz`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      ok: true,
      status: "ok",
      version: VERSION,
      mode: "relay",
      defaultZone: "us",
      zones: { us: { relay: true, api: true }, eu: { relay: false, api: true } },
      start: { api: false, links: false },
    });
    expect(JSON.stringify(body)).not.toContain("test-partner-key");
    expect(JSON.stringify(body)).not.toContain("proj_test");
  });

  it("says which ways in are enabled", async () => {
    const res = await call(`${HOST}/healthz`, {}, { ADMIN_TOKEN: "a".repeat(40), LINK_SIGNING_KEY: "" });
    const body = (await res.json()) as { start: unknown };
    expect(body.start).toEqual({ api: true, links: false });
    expect(JSON.stringify(body)).not.toContain("a".repeat(40));
  });

  it("keeps VERSION equal to package.json", () => {
    expect(VERSION).toBe(pkg.version);
  });
});

describe("query helpers", () => {
  it("slices the raw query without the fragment", () => {
    expect(rawQuery("https://h/p?a=%20+b#frag")).toBe("a=%20+b");
    expect(rawQuery("https://h/p")).toBe("");
    expect(rawQuery("https://h/p?")).toBe("");
  });

  it("parses both completion forms", () => {
    expect(parseCompletion("connectionId=abc?status=success")).toEqual({ connectionId: "abc", status: "success" });
    expect(parseCompletion("status=success&connectionId=abc")).toEqual({ connectionId: "abc", status: "success" });
  });

  it("appends parameters without touching the existing query", () => {
    expect(withParams(new URL("https://a.example/p?x=%20+y"), { c: "1", d: undefined }).href).toBe(
      "https://a.example/p?x=%20+y&c=1",
    );
    expect(withParams(new URL("https://a.example/p"), { e: "a b&c" }).href).toBe("https://a.example/p?e=a+b%26c");
  });
});
