import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkReturnUrl } from "../src/security/return-url";
import { signPayload } from "../src/security/start-link";
import { HOSTILE_RETURN_URLS, type HostileFamily } from "./fixtures/hostile-return-urls";
import { apiInit, browserGet, freshToken, HOST, LINK_KEY, mockCreate } from "./fixtures/start";
import { call } from "./helpers/worker";

// The allow-list on write: every hostile return URL is refused by the
// checker itself, by the server API and by a correctly signed start link,
// always before Peaka is called. (Re-checks on read are covered by the
// completion, exchange and hardening suites.)

const ORIGINS: ReadonlySet<string> = new Set(["https://app.example.com", "http://localhost:3000"]);

const ACCEPTED = [
  "https://app.example.com",
  "https://app.example.com/",
  "https://app.example.com/settings?tab=data&x=%20y#section",
  "https://APP.Example.com/upper-case-host",
  "https://app.example.com:443/explicit-default-port",
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
