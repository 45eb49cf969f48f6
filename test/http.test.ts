import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../package.json";
import { withParams } from "../src/core/way-back";
import { PAGE_CSS } from "../src/edge/assets";
import { renderErrorPage } from "../src/edge/error-page";
import { rawQuery } from "../src/edge/query";
import { FAILURES, type FailureCode } from "../src/failures/codes";
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

  it("serves error pages with a restrictive CSP and nothing external: only the worker's own stylesheet", async () => {
    const res = await call(`${HOST}/nothing-here`, { headers: BROWSER });
    expect(res.status).toBe(404);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const page = await res.text();
    expect([...page.matchAll(/(src|href)="([^"]*)"/g)].map((m) => m[2])).toEqual([PAGE_CSS]);
    expect(page).toContain("not_found");
  });

  it("escapes every field it echoes", () => {
    // The routes only ever pass validated values here, so the escaper is
    // reached directly, with markup in each field the page shows.
    const markup = `<script>alert("x")</script>&'`;
    const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;";
    const fields = { requestId: markup, connectionId: markup, detail: markup, code: markup as FailureCode };
    for (const field of Object.keys(fields) as (keyof typeof fields)[]) {
      const input = { code: "not_found" as FailureCode, requestId: "rid", [field]: markup };
      const page = field === "code" ? renderPageWithCode(markup) : renderErrorPage(input);
      expect(page, field).not.toContain("<script>");
      expect(page, field).toContain(escaped);
    }
  });

  it("escapes what a route echoes", async () => {
    const res = await call(`${HOST}/oauth2/complete?connectionId=%3Cscript%3E`, { headers: BROWSER });
    expect(await res.text()).not.toContain("<script>");
  });
});

/** The page for a code the table does not know: the title and the code row still go through the escaper. */
function renderPageWithCode(code: string): string {
  const failures = FAILURES as Record<string, { status: number; message: string }>;
  failures[code] = { status: 500, message: code };
  try {
    return renderErrorPage({ code: code as FailureCode, requestId: "rid" });
  } finally {
    delete failures[code];
  }
}

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
      browserBinding: "off",
      signedResult: false,
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

  it.each<[string, Record<string, string>, string[]]>([
    ["no project id", { PEAKA_PROJECT_ID: "" }, ["PEAKA_US_PROJECT_ID (or PEAKA_PROJECT_ID)"]],
    ["no API key", { PEAKA_API_KEY: "" }, ["PEAKA_US_API_KEY (or PEAKA_API_KEY)"]],
    [
      "a host mapped to a zone that cannot relay",
      { ZONE_BY_HOST: "connect.eu.example.com=eu" },
      ["PEAKA_EU_CALLBACK_URL"],
    ],
    ["an invalid admin token", { ADMIN_TOKEN: "short" }, ["ADMIN_TOKEN"]],
  ])("reports degraded with %s, naming the variable and not its value", async (_name, overrides, variables) => {
    const res = await call(`${HOST}/healthz`, {}, overrides);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; status: string; problems: { variable: string }[] };
    expect(body.ok).toBe(false);
    expect(body.status).toBe("degraded");
    expect(body.problems.map((p) => p.variable)).toEqual(variables);
    const text = JSON.stringify(body);
    for (const value of ["test-partner-key", "proj_test", "short"]) expect(text).not.toContain(value);
  });

  it("is not degraded by a zone nothing routes to", async () => {
    // The EU zone has no callback here, but no host maps to it and it is not the default.
    const body = (await (await call(`${HOST}/healthz`)).json()) as { zones: { eu: { relay: boolean } }; ok: boolean };
    expect(body.zones.eu.relay).toBe(false);
    expect(body.ok).toBe(true);
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
