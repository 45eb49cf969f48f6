import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  checkReturnUrl,
  type OriginAllowList,
  parseAllowedOrigin,
  parseAllowList,
  type ReturnUrlRejection,
} from "../src/security/return-url";
import { signPayload } from "../src/security/start-link";
import {
  EXACT_ORIGINS,
  HOSTILE_RETURN_URLS,
  HOSTILE_UNDER_WILDCARD,
  type HostileFamily,
  WILDCARD_ORIGINS,
  WILDCARD_TENANTS,
} from "./fixtures/hostile-return-urls";
import { apiInit, browserGet, freshToken, HOST, LINK_KEY, mockCreate } from "./fixtures/start";
import { call } from "./helpers/worker";

// The allow-list on write: every hostile return URL is refused by the
// checker itself, by the server API and by a correctly signed start link,
// always before Peaka is called. (Re-checks on read are covered by the
// completion, exchange and hardening suites.)

function allowList(...entries: string[]): OriginAllowList {
  const list = parseAllowList(entries);
  if (!list) throw new Error(`invalid test allow-list ${entries.join(",")}`);
  return list;
}

const ORIGINS = allowList(...EXACT_ORIGINS);
const WILDCARD = allowList(...WILDCARD_ORIGINS);

const ACCEPTED = [
  "https://app.example.com",
  "https://app.example.com/",
  "https://app.example.com/settings?tab=data&x=%20y#section",
  "https://APP.Example.com/upper-case-host",
  "http://localhost:3000/callback",
  `https://app.example.com/${"a".repeat(2048 - "https://app.example.com/".length)}`,
];

describe("the hostile corpus", () => {
  it("has at least 60 entries across the families the allow-list must defeat", () => {
    expect(HOSTILE_RETURN_URLS.length).toBeGreaterThanOrEqual(60);
    const families = new Set(HOSTILE_RETURN_URLS.map((h) => h.family));
    for (const family of [
      "protocol-relative",
      "scheme-relative",
      "userinfo",
      "look-alike",
      "scheme",
      "unicode",
      "numeric-host",
      "control-character",
      "parameter-pollution",
      "percent-encoded-host",
      "idn-host",
      "default-port",
      "wildcard-look-alike",
    ] satisfies HostileFamily[]) {
      expect(families.has(family)).toBe(true);
    }
    const urls = new Set(HOSTILE_RETURN_URLS.map((h) => h.url));
    for (const must of [
      "//evil.com",
      "/\\evil.com",
      "\\\\evil.com",
      "/%09/evil.com",
      "/%5cevil.com",
      "https://app.example.com@evil.com",
      "https://app.example.com%2f@evil.com",
      "https://app.example.com.evil.com",
      "https://evilapp.example.com",
      "JaVaScRiPt:alert(1)",
      "java%0d%0ascript:alert(1)",
      "https:evil.com",
      "https:/evil.com",
      "http://app.example.com",
      "https://app.example.com:8443",
      "https://evil\u3002com",
      "https://app.example.%EF%BD%83om",
      "https://app.example.com:443/",
      "https://evil-example.com",
      "https://a.b.example.com",
      "https://example.com",
    ]) {
      expect(urls.has(must), must).toBe(true);
    }
  });
});

describe("checkReturnUrl", () => {
  it.each(HOSTILE_RETURN_URLS.map((h) => [h.family, h.url] as const))("refuses %s %j", (_, url) => {
    expect(checkReturnUrl(url, ORIGINS).ok).toBe(false);
  });

  it.each(ACCEPTED)("accepts %j", (url) => {
    expect(checkReturnUrl(url, ORIGINS).ok).toBe(true);
  });

  it.each(HOSTILE_UNDER_WILDCARD.map((h) => [h.family, h.url] as const))(
    "refuses %s %j under https://*.example.com",
    (_, url) => {
      expect(checkReturnUrl(url, WILDCARD).ok).toBe(false);
    },
  );

  it.each([...WILDCARD_TENANTS])("lets https://*.example.com allow the tenant %j on purpose", (url) => {
    expect(HOSTILE_RETURN_URLS.some((h) => h.url === url)).toBe(true);
    expect(checkReturnUrl(url, WILDCARD).ok).toBe(true);
  });
});

describe("the written authority must be the served one, ASCII case aside", () => {
  const IDN = allowList("https://app.example.com", "https://xn--bcher-kva.example.com", "http://localhost:3000");

  it.each([
    ["https://app.example.%EF%BD%83om/x", "authority"],
    ["https://%61pp.example.com/x", "authority"],
    ["https://app%2eexample.com/x", "authority"],
    ["http://local%68ost:3000/x", "authority"],
    ["https://app.example.\uff43om/x", "bad_character"],
    ["https://%EF%BD%81%EF%BD%90%EF%BD%90.example.com/x", "authority"],
    ["https://b\u00fccher.example.com/x", "bad_character"],
    ["https://b%C3%BCcher.example.com/x", "authority"],
    ["https://app.example.com:443/x", "authority"],
    ["https://APP.example.com:443", "authority"],
    ["https://app.example.com:0443/x", "authority"],
    ["https://app.example.com:/x", "authority"],
    ["http://localhost:03000/x", "authority"],
    ["https://@app.example.com/x", "authority"],
    ["https://user@app.example.com/x", "userinfo"],
    ["https://user:pw@app.example.com/x", "userinfo"],
    ["https://app.example.com\\@evil.com/x", "bad_character"],
    ["https://app.example.com\\x", "bad_character"],
    ["https:\\\\app.example.com/x", "bad_character"],
    ["https://app.example.com.evil.com/x", "origin"],
  ] satisfies [string, ReturnUrlRejection][])("refuses %j (%s)", (url, reason) => {
    expect(checkReturnUrl(url, IDN)).toEqual({ ok: false, reason });
  });

  it.each([
    "https://APP.EXAMPLE.COM/x",
    "HTTPS://App.Example.Com?x=1",
    "https://app.example.com#frag",
    "https://xn--bcher-kva.example.com/x",
    "https://XN--BCHER-KVA.Example.com/x",
    "http://LOCALHOST:3000/x",
  ])("accepts %j", (url) => {
    const check = checkReturnUrl(url, IDN);
    expect(check.ok).toBe(true);
  });

  it("keeps a listed non-default port, written as served", () => {
    const list = allowList("https://app.example.com:8443");
    expect(checkReturnUrl("https://app.example.com:8443/x", list).ok).toBe(true);
    expect(checkReturnUrl("https://app.example.com:08443/x", list)).toEqual({ ok: false, reason: "authority" });
    expect(checkReturnUrl("https://app.example.com/x", list)).toEqual({ ok: false, reason: "origin" });
  });

  it("still parses a RETURN_ORIGINS entry written with the default port to the plain origin", () => {
    expect(parseAllowedOrigin("https://app.example.com:443")).toEqual({
      kind: "exact",
      origin: "https://app.example.com",
    });
  });
});

describe("one-label wildcards in RETURN_ORIGINS", () => {
  it.each([
    ["https://*.example.com", "example.com", ""],
    ["https://*.example.com/", "example.com", ""],
    ["https://*.Example.COM", "example.com", ""],
    ["https://*.example.com:8443", "example.com", "8443"],
    ["https://*.eu.example.co.uk", "eu.example.co.uk", ""],
    ["https://*.xn--bcher-kva.example", "xn--bcher-kva.example", ""],
  ])("parses %j", (entry, suffix, port) => {
    expect(parseAllowedOrigin(entry)).toEqual({ kind: "wildcard", wildcard: { scheme: "https:", suffix, port } });
  });

  it.each([
    "https://*.com",
    "https://*",
    "https://*.",
    "https://a.*.example.com",
    "https://*.*.example.com",
    "https://**.example.com",
    "https://*a.example.com",
    "https://a*.example.com",
    "https://*example.com",
    "*example.com",
    "*.example.com",
    "https://*.example.com.",
    "https://*..example.com",
    "https://*.-example.com",
    "https://*.ex_ample.com",
    "https://*.1.2.3",
    "https://*.example.123",
    "https://*.example.com:443",
    "https://*.example.com:",
    "https://*.example.com/path",
    "https://*.example.com?x",
    "https://*.example.com#x",
    "https://user@*.example.com",
    "https://%2A.example.com",
    "https://*.ex%61mple.com",
    "https://*.b\u00fccher.example",
    "http://*.example.com",
    "http://*.localhost:3000",
    "http://*:3000",
    "https:*.example.com",
    "https:/*.example.com",
  ])("refuses %j", (entry) => {
    expect(parseAllowedOrigin(entry)).toBeUndefined();
  });

  const list = allowList("https://*.example.com");
  const withPort = allowList("https://*.example.com:8443");

  it.each([
    "https://tenant.example.com",
    "https://tenant.example.com/",
    "https://tenant.example.com/settings?tab=1#top",
    "https://TENANT.Example.com/x",
    "https://t.example.com",
    "https://1.example.com",
    "https://a-b.example.com",
    "https://xn--bcher-kva.example.com",
    `https://${"a".repeat(63)}.example.com`,
  ])("https://*.example.com allows %j", (url) => {
    expect(checkReturnUrl(url, list).ok).toBe(true);
  });

  it.each([
    ["https://example.com", "origin"],
    ["https://a.b.example.com", "origin"],
    ["https://evil-example.com", "origin"],
    ["https://evilexample.com", "origin"],
    ["https://example.com.evil.com", "origin"],
    ["https://tenant.example.com.evil.com", "origin"],
    ["https://tenant.example.com.", "origin"],
    ["https://tenant.example.com:8443", "origin"],
    ["http://tenant.example.com", "scheme"],
    ["https://-tenant.example.com", "origin"],
    ["https://tenant-.example.com", "origin"],
    ["https://ten_ant.example.com", "origin"],
    ["https://.example.com", "origin"],
    ["https://tenant..example.com", "origin"],
    ["https://*.example.com", "origin"],
    [`https://${"a".repeat(64)}.example.com`, "origin"],
    ["https://tenant.example.com:443", "authority"],
    ["https://%74enant.example.com", "authority"],
    ["https://%2A.example.com", "authority"],
    ["https://%EF%BD%94enant.example.com", "authority"],
    ["https://b%C3%BCcher.example.com", "authority"],
    ["https://tenant%E3%80%82example.com", "authority"],
    ["https://tenant.example.com@evil.com", "userinfo"],
    ["https://evil.com/.example.com", "origin"],
  ] satisfies [string, ReturnUrlRejection][])("https://*.example.com refuses %j (%s)", (url, reason) => {
    expect(checkReturnUrl(url, list)).toEqual({ ok: false, reason });
  });

  it("holds the pattern's port: none means the default, a listed one exactly", () => {
    expect(checkReturnUrl("https://tenant.example.com:8443/x", withPort).ok).toBe(true);
    expect(checkReturnUrl("https://tenant.example.com/x", withPort)).toEqual({ ok: false, reason: "origin" });
    expect(checkReturnUrl("https://tenant.example.com:8444/x", withPort)).toEqual({ ok: false, reason: "origin" });
    expect(checkReturnUrl("https://tenant.example.com:08443/x", withPort)).toEqual({ ok: false, reason: "authority" });
  });

  it("keeps exact origins and wildcards side by side", () => {
    const mixed = allowList("https://partner.example.net", "https://*.example.com", "http://localhost:3000");
    expect(mixed.exact).toEqual(new Set(["https://partner.example.net", "http://localhost:3000"]));
    expect(mixed.wildcards).toEqual([{ scheme: "https:", suffix: "example.com", port: "" }]);
    expect(checkReturnUrl("https://partner.example.net/x", mixed).ok).toBe(true);
    expect(checkReturnUrl("https://tenant.partner.example.net/x", mixed).ok).toBe(false);
    expect(checkReturnUrl("http://localhost:3000/x", mixed).ok).toBe(true);
  });
});

describe("the server API refuses every hostile return URL before calling Peaka", () => {
  it.each(HOSTILE_RETURN_URLS.map((h) => [h.family, h.url] as const))("%s %j", async (_, returnUrl) => {
    const seen = mockCreate();
    const token = freshToken();
    const res = await call(
      `${HOST}/api/v1/connections`,
      apiInit("POST", { type: "google_analytics", name: "x", returnUrl }, token),
      { ADMIN_TOKEN: token },
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; fields: { field: string }[] };
    expect(body.error).toBe("return_url_not_allowed");
    expect(body.fields).toEqual([{ field: "returnUrl", problem: expect.any(String) }]);
    expect(seen).toHaveLength(0);
  });

  it.each(["https://app.example.%EF%BD%83om/settings", "https://app.example.com:443/settings"])(
    "names the written authority as the field problem for %j",
    async (returnUrl) => {
      const seen = mockCreate();
      const token = freshToken();
      const res = await call(
        `${HOST}/api/v1/connections`,
        apiInit("POST", { type: "google_analytics", name: "x", returnUrl }, token),
        { ADMIN_TOKEN: token },
      );
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; fields: { field: string; problem: string }[] };
      expect(body.error).toBe("return_url_not_allowed");
      expect(body.fields).toEqual([
        {
          field: "returnUrl",
          problem:
            "must write its host in plain ASCII, as it is served (no percent-escapes, Unicode or numeric spellings), and leave out a default port such as :443",
        },
      ]);
      expect(seen).toHaveLength(0);
    },
  );

  it("acts on the very value it checked when a JSON body repeats returnUrl", async () => {
    const token = freshToken();
    const send = (body: string) =>
      call(`${HOST}/api/v1/connections`, apiInit("POST", body, token), { ADMIN_TOKEN: token });
    const seen = mockCreate();
    const evilLast = await send(
      '{"type":"t","name":"n","returnUrl":"https://app.example.com/ok","returnUrl":"https://evil.com/"}',
    );
    expect(evilLast.status).toBe(400);
    expect(seen).toHaveLength(0);

    const id = `conn_${crypto.randomUUID()}`;
    mockCreate({ id });
    const evilFirst = await send(
      '{"type":"t","name":"n","returnUrl":"https://evil.com/","returnUrl":"https://app.example.com/ok"}',
    );
    expect(evilFirst.status).toBe(201);
    expect(JSON.parse((await env.CONNECTIONS.get(`conn:${id}`)) ?? "{}").returnUrl).toBe("https://app.example.com/ok");
  });
});

/** Signed field by field, so even values createStartLink refuses to sign (an empty one) are covered. */
async function signedLink(returnUrl: string): Promise<string> {
  const fields = {
    type: "google_analytics",
    name: "x",
    returnUrl,
    exp: String(Math.floor(Date.now() / 1000) + 300),
    nonce: crypto.randomUUID(),
  };
  const url = new URL(`${HOST}/oauth2/start`);
  for (const [name, value] of Object.entries(fields)) url.searchParams.append(name, value);
  url.searchParams.append("sig", await signPayload(fields, LINK_KEY));
  return url.href;
}

describe("a correctly signed start link with a hostile return URL is refused before calling Peaka", () => {
  let n = 0;
  it.each(HOSTILE_RETURN_URLS.map((h) => [h.family, h.url] as const))("%s %j", async (_, returnUrl) => {
    const seen = mockCreate();
    const url = await signedLink(returnUrl);
    n += 1;
    const res = await call(url, browserGet(url, `192.0.${n >> 8}.${n & 255}`), { LINK_SIGNING_KEY: LINK_KEY });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("return_url_not_allowed");
    expect(seen).toHaveLength(0);
  });
});
