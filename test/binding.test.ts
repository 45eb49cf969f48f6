import { env } from "cloudflare:test";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { Store } from "../src/storage/store";
import {
  ADMIN_TOKEN,
  apiInit,
  browserGet,
  consentUrl,
  dumpKv,
  HOST,
  LINK_KEY,
  link,
  mockCreate,
  RETURN_URL,
  sha256,
} from "./fixtures/start";
import { countingLimiter } from "./helpers/limiter";
import { captureLogs } from "./helpers/logs";
import { API_KEY, connectionJson, mockExchange, peaka, US_API } from "./helpers/peaka";
import { BROWSER, call, type Overrides } from "./helpers/worker";

/*
 * BROWSER_BINDING=required, the default: each flow is bound to the browser
 * that first reached the worker, and every step that could hand the flow to
 * someone else requires that browser. A "second browser" here is a client
 * that lacks the first one's cookie.
 */

const logs = captureLogs();
const store = new Store(env.CONNECTIONS, 3600);
const BOUND: Overrides = { BROWSER_BINDING: "required", ADMIN_TOKEN, LINK_SIGNING_KEY: LINK_KEY };
const EXCHANGE: Overrides = { ...BOUND, CALLBACK_MODE: "exchange" };
const CLIENT = { clientId: "client-123", clientSecret: "cs_test_4f5e6d" };

const unique = (prefix: string) => `${prefix}_${crypto.randomUUID()}`;

/** The `name=value` part of each Set-Cookie header. */
function cookiesOf(res: Response): string[] {
  return res.headers.getSetCookie().map((header) => header.split(";")[0] ?? "");
}

/** A browser: remembers the cookies the worker sets and sends them back. */
function browser() {
  const jar = new Map<string, string>();
  return {
    jar,
    async get(url: string, overrides: Overrides = BOUND, init: RequestInit = {}) {
      const headers = new Headers(init.headers);
      headers.set("accept", BROWSER.accept);
      if (jar.size > 0) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
      const res = await call(url, { ...init, headers }, overrides);
      for (const cookie of cookiesOf(res)) {
        const eq = cookie.indexOf("=");
        const [name, value] = [cookie.slice(0, eq), cookie.slice(eq + 1)];
        if (value === "") jar.delete(name);
        else jar.set(name, value);
      }
      return res;
    },
  };
}

/** A flow started through the server API: the startUrl and what the mocked Peaka returned. */
async function apiStart(overrides: Overrides = BOUND, credential?: object) {
  const id = unique("conn");
  const state = unique("st");
  mockCreate({ id, url: consentUrl(state, `${HOST}/oauth2/mycallback`) });
  const res = await call(
    `${HOST}/api/v1/connections`,
    apiInit("POST", {
      type: "google_analytics",
      name: "A",
      returnUrl: RETURN_URL,
      ...(credential ? { credential } : {}),
    }),
    overrides,
  );
  expect(res.status).toBe(201);
  const body = (await res.json()) as { startUrl: string; consentUrl?: string; connectionId: string };
  return { id, state, body };
}

describe("the server API's startUrl", () => {
  it("answers a startUrl and no consent URL; only the startUrl's record exists, with no state in it", async () => {
    const { id, state, body } = await apiStart();
    expect(body.startUrl).toMatch(/^https:\/\/connect\.example\.com\/oauth2\/begin\?t=[A-Za-z0-9_-]{43}$/);
    expect(body.consentUrl).toBeUndefined();
    expect(await store.getConnection(id)).toBeUndefined();
    expect(await store.getState(state)).toBeUndefined();
    for (const [key, value] of await dumpKv()) {
      expect(key).not.toContain(state);
      expect(value).not.toContain(state);
    }
  });

  it("binds the browser that opens it: a __Host- cookie, its hash on both records, then the consent screen", async () => {
    const { id, state, body } = await apiStart();
    const alice = browser();
    const res = await alice.get(body.startUrl);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(consentUrl(state, `${HOST}/oauth2/mycallback`));
    const [header] = res.headers.getSetCookie();
    expect(header).toMatch(
      /^__Host-pce-[0-9a-f]{16}=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; Secure; HttpOnly; SameSite=None$/,
    );
    const [token] = [...alice.jar.values()];
    const hash = await sha256(token ?? "");
    expect((await store.getConnection(id))?.browser).toBe(hash);
    expect((await store.getState(state))?.browser).toBe(hash);
    for (const [, value] of await dumpKv()) expect(value).not.toContain(token);
    logs.expectAbsent(token ?? "", state, body.startUrl.split("t=")[1] ?? "");
  });

  it("is single-use: a second opening, in any browser, is refused", async () => {
    const { body } = await apiStart();
    expect((await browser().get(body.startUrl)).status).toBe(303);
    const again = await browser().get(body.startUrl);
    expect(again.status).toBe(403);
    expect(await again.text()).toContain("link_invalid");
  });

  it("HEAD (a link preview) does not spend it", async () => {
    const { body } = await apiStart();
    const head = await call(body.startUrl, { method: "HEAD" }, BOUND);
    expect(head.status).toBe(405);
    expect((await browser().get(body.startUrl)).status).toBe(303);
  });

  it("refuses a made-up or damaged token", async () => {
    for (const t of ["", "short", "A".repeat(43)]) {
      expect((await browser().get(`${HOST}/oauth2/begin?t=${t}`)).status).toBe(403);
    }
  });
});

describe("a second browser is refused", () => {
  it("at the relay (2.b.2), before the code goes to Peaka", async () => {
    const { state, body } = await apiStart();
    const alice = browser();
    await alice.get(body.startUrl);
    const callback = `${HOST}/oauth2/mycallback?code=c0de&state=${encodeURIComponent(state)}`;

    const mallory = await browser().get(callback);
    expect(mallory.status).toBe(403);
    expect(mallory.headers.get("location")).toBeNull();
    expect(await mallory.text()).toContain("browser_mismatch");

    const own = await alice.get(callback);
    expect(own.status).toBe(307);
    expect(own.headers.get("location")).toBe(
      `https://peaka.studio/oauth2/callback?code=c0de&state=${encodeURIComponent(state)}`,
    );
  });

  it("at the relay, a form_post carries the cookie too", async () => {
    const { state, body } = await apiStart();
    const alice = browser();
    await alice.get(body.startUrl);
    const init = (jar?: boolean) => ({
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(jar ? { cookie: [...alice.jar].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
      },
      body: new URLSearchParams({ code: "c", state }).toString(),
    });
    expect((await call(`${HOST}/oauth2/mycallback`, init(false), BOUND)).status).toBe(403);
    expect((await call(`${HOST}/oauth2/mycallback`, init(true), BOUND)).status).toBe(307);
  });

  it("at the relay: a wrong token, a callback without state, an unknown state", async () => {
    const { state, body } = await apiStart();
    const alice = browser();
    await alice.get(body.startUrl);
    const [name] = [...alice.jar.keys()];
    const forged = await call(
      `${HOST}/oauth2/mycallback?code=c&state=${encodeURIComponent(state)}`,
      { headers: { cookie: `${name}=${"x".repeat(43)}` } },
      BOUND,
    );
    expect(forged.status).toBe(403);
    expect((await alice.get(`${HOST}/oauth2/mycallback?code=c`)).status).toBe(403);
    expect((await alice.get(`${HOST}/oauth2/mycallback?code=c&state=never-started`)).status).toBe(403);
  });

  it("at the exchange (2.b.3), before any call to Peaka; a replay only for the same browser", async () => {
    const { id, state, body } = await apiStart(EXCHANGE, CLIENT);
    const alice = browser();
    await alice.get(body.startUrl, EXCHANGE);
    const seen = mockExchange(() => connectionJson(id));
    const callback = `${HOST}/oauth2/mycallback?code=${unique("code")}&state=${encodeURIComponent(state)}`;

    const mallory = browser();
    expect((await mallory.get(callback, EXCHANGE)).status).toBe(403);
    expect(seen).toHaveLength(0);

    const own = await alice.get(callback, EXCHANGE);
    expect(own.status).toBe(303);
    expect(own.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=success`);
    expect(seen).toHaveLength(1);
    // The cookie stays, so that a repeated callback in this browser gets the same answer.
    expect(own.headers.getSetCookie()).toEqual([]);
    const again = await alice.get(callback, EXCHANGE);
    expect(again.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=success`);

    // The same callback replayed from elsewhere does not get the answer; no second call either.
    expect((await mallory.get(callback, EXCHANGE)).status).toBe(403);
    expect(seen).toHaveLength(1);
  });

  it("at the completion, before the redirect, and the record is not spent", async () => {
    const { id, body } = await apiStart();
    const alice = browser();
    await alice.get(body.startUrl);
    const completion = `${HOST}/oauth2/complete?connectionId=${id}&status=success`;

    const mallory = await browser().get(completion);
    expect(mallory.status).toBe(403);
    expect(await mallory.text()).toContain("browser_mismatch");
    expect(await store.getConnection(id)).toBeDefined();

    const own = await alice.get(completion);
    expect(own.status).toBe(303);
    expect(own.headers.get("location")).toBe(`${RETURN_URL}&connectionId=${id}&status=success`);
    // The record is spent with this answer, and the flow's cookie expires with it.
    expect(own.headers.getSetCookie()[0]).toMatch(
      /^__Host-pce-[0-9a-f]{16}=; Max-Age=0; Path=\/; Secure; HttpOnly; SameSite=None$/,
    );
  });

  it("logs browser_mismatch and sends nothing to Peaka for 50 junk exchange callbacks", async () => {
    const seen = mockExchange(() => connectionJson("never"));
    for (let i = 0; i < 50; i++) {
      const res = await call(`${HOST}/oauth2/mycallback?code=junk${i}&state=junk${i}`, {}, EXCHANGE);
      expect(res.status).toBe(403);
    }
    expect(seen).toHaveLength(0);
    expect(
      logs
        .json()
        .filter((l) => l.msg === "request")
        .at(-1),
    ).toMatchObject({
      route: "exchange",
      error: "browser_mismatch",
      level: "warn",
    });
  });
});

describe("signed start links bind the browser that opens them", () => {
  it("sets the cookie with the 303 to the consent screen; the completion needs it", async () => {
    const id = unique("conn");
    const state = unique("st");
    mockCreate({ id, url: consentUrl(state) });
    const alice = browser();
    const url = await link();
    const res = await alice.get(url, BOUND, browserGet(url));
    expect(res.status).toBe(303);
    expect(alice.jar.size).toBe(1);
    const hash = await sha256([...alice.jar.values()][0] ?? "");
    expect((await store.getConnection(id))?.browser).toBe(hash);
    const completion = `${HOST}/oauth2/complete?connectionId=${id}&status=success`;
    expect((await browser().get(completion)).status).toBe(403);
    expect((await alice.get(completion)).status).toBe(303);
  });
});

describe("a completion the platform never sent", () => {
  it("for an exchange-mode flow is refused even in its own browser, and nothing is spent", async () => {
    const { id, body } = await apiStart(EXCHANGE, CLIENT);
    const alice = browser();
    await alice.get(body.startUrl, EXCHANGE);
    const made = await alice.get(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, {
      ...EXCHANGE,
      RESULT_SIGNING_KEY: "test-result-signing-key-0123456789abcdef",
    });
    expect(made.status).toBe(404);
    expect(made.headers.get("location")).toBeNull();
    expect(await made.text()).toContain("unknown_connection");
    expect(await store.getConnection(id)).toBeDefined();
  });
});

describe("concurrent flows in one browser", () => {
  it("each flow has its own cookie, and each completes", async () => {
    const alice = browser();
    const flows = [await apiStart(), await apiStart()];
    for (const flow of flows) await alice.get(flow.body.startUrl);
    expect(alice.jar.size).toBe(2);
    for (const flow of flows) {
      const res = await alice.get(`${HOST}/oauth2/complete?connectionId=${flow.id}&status=success`);
      expect(res.status).toBe(303);
    }
  });
});

describe("callbacks from configured origins only", () => {
  it("the API on an unlisted host answers 421 and Peaka hears nothing", async () => {
    const seen = mockCreate();
    const res = await call(
      "https://evil.attacker.net/api/v1/connections",
      apiInit("POST", { type: "google_analytics", name: "A", returnUrl: RETURN_URL }),
      BOUND,
    );
    expect(res.status).toBe(421);
    expect(((await res.json()) as { error: string }).error).toBe("misdirected_request");
    expect(seen).toHaveLength(0);
  });

  it("a forged Host header on a listed URL changes nothing", async () => {
    const seen = mockCreate({ url: consentUrl(unique("st")) });
    const init = apiInit("POST", { type: "google_analytics", name: "A", returnUrl: RETURN_URL });
    const res = await call(
      `${HOST}/api/v1/connections`,
      { ...init, headers: { ...(init.headers as Record<string, string>), host: "evil.attacker.net" } },
      BOUND,
    );
    expect(res.status).toBe(201);
    expect(JSON.parse(seen[0]?.body ?? "{}").connectionCallback).toBe(`${HOST}/oauth2/complete`);
    expect(((await res.json()) as { startUrl: string }).startUrl.startsWith(`${HOST}/oauth2/begin?`)).toBe(true);
  });

  it("a signed link on an unlisted host answers 421", async () => {
    const seen = mockCreate();
    const url = (await link()).replace(HOST, "https://evil.attacker.net");
    const res = await call(url, browserGet(url), BOUND);
    expect(res.status).toBe(421);
    expect(seen).toHaveLength(0);
  });

  it("the exchange's redirect_uri comes from the listed origin", async () => {
    const seen = mockCreate({ url: consentUrl(unique("st"), "https://connect.eu.example.com/oauth2/mycallback") });
    const res = await call(
      "https://connect.eu.example.com/api/v1/connections",
      apiInit("POST", { type: "google_analytics", name: "A", returnUrl: RETURN_URL, credential: CLIENT }),
      EXCHANGE,
    );
    expect(res.status).toBe(201);
    expect(JSON.parse(seen[0]?.body ?? "{}").credential.redirectUrl).toBe(
      "https://connect.eu.example.com/oauth2/mycallback",
    );
  });

  it("without PUBLIC_ORIGINS nothing starts: config_invalid naming it", async () => {
    const res = await call(
      `${HOST}/api/v1/connections`,
      apiInit("POST", { type: "google_analytics", name: "A", returnUrl: RETURN_URL }),
      { ...BOUND, PUBLIC_ORIGINS: "" },
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("config_invalid");
    expect(body.message).toContain("PUBLIC_ORIGINS");
  });
});

describe("the completion is not spent by HEAD", () => {
  it("answers 405 and the record stays", async () => {
    const id = unique("conn");
    await store.putConnection(id, { returnUrl: RETURN_URL, zone: "us", mode: "relay", createdAt: Date.now() });
    const head = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { method: "HEAD" });
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("GET");
    expect(await store.getConnection(id)).toBeDefined();
  });
});

describe("CALLBACK_RATE_LIMITER", () => {
  it.each([
    ["relay", `${HOST}/oauth2/mycallback?code=c`, {}],
    ["exchange", `${HOST}/oauth2/mycallback?code=c`, { CALLBACK_MODE: "exchange" }],
    ["completion", `${HOST}/oauth2/complete?connectionId=c1&status=success`, {}],
  ])("limits the %s per client IP, before any call to Peaka", async (_name, url, extra) => {
    const seen = mockExchange(() => connectionJson("x"));
    const limiter = countingLimiter(0);
    const res = await call(
      url,
      { headers: { "cf-connecting-ip": "198.51.100.9" } },
      {
        ...extra,
        CALLBACK_RATE_LIMITER: limiter,
      },
    );
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    // Counted by the client IP. (The relay's fast path asks first and leaves a refusal
    // to the full app, which counts again: only a client already over its limit pays twice.)
    expect(new Set(limiter.keys)).toEqual(new Set(["198.51.100.9"]));
    expect(seen).toHaveLength(0);
  });

  it("lets a client under the limit through", async () => {
    const limiter = countingLimiter(5);
    const res = await call(
      `${HOST}/oauth2/mycallback?code=c`,
      { headers: { "cf-connecting-ip": "198.51.100.10" } },
      { CALLBACK_RATE_LIMITER: limiter },
    );
    expect(res.status).toBe(307);
    expect(limiter.keys).toEqual(["198.51.100.10"]);
  });
});

describe("error_description", () => {
  it.each([
    ["plain words", "The user said no", "The user said no"],
    ["markup", "<img src=x onerror=alert(1)>", null],
    ["quotes", 'say "hi"', null],
    ["apostrophe", "don't", null],
    ["ampersand", "a & b", null],
    ["a control character", "a\u0007b", null],
  ])("with %s reaches the return URL only when harmless", async (_name, description, expected) => {
    const id = unique("conn");
    const state = unique("st");
    await store.putState(state, { connectionId: id, returnUrl: RETURN_URL, zone: "us" });
    const query = new URLSearchParams({ error: "access_denied", error_description: description, state });
    const res = await call(`${HOST}/oauth2/mycallback?${query}`, {}, { CALLBACK_MODE: "exchange" });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get("location") ?? "").searchParams.get("error_description")).toBe(expected);
  });
});

describe("secrets stay out of KV and logs with binding on", () => {
  it("for a whole exchange flow", async () => {
    const { id, state, body } = await apiStart(EXCHANGE, CLIENT);
    const alice = browser();
    await alice.get(body.startUrl, EXCHANGE);
    const code = unique("code");
    peaka.use(http.post(`${US_API}/connections/proj_test/oauth2`, () => HttpResponse.json({ id })));
    await alice.get(`${HOST}/oauth2/mycallback?code=${code}&state=${encodeURIComponent(state)}`, EXCHANGE);
    const token = body.startUrl.split("t=")[1] ?? "";
    for (const [key, value] of await dumpKv()) {
      for (const secret of [code, state, token, CLIENT.clientSecret, API_KEY]) {
        expect(key).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
    logs.expectAbsent(code, state, token, CLIENT.clientSecret, API_KEY, ADMIN_TOKEN);
  });
});
