import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { PAGE_CSS, WAIT_JS } from "../src/edge/assets";
import { RiveryConnectionResponse } from "../src/edge/routes/api/spec";
import { createWorker } from "../src/index";
import { credentialsReady } from "../src/platforms/rivery/ready";
import { verifyResult } from "../src/security/result.js";
import { apiInit, dumpKv, freshToken, HOST, LINK_KEY, link, RETURN_URL } from "./fixtures/start";
import { captureLogs } from "./helpers/logs";
import { peaka as rivery } from "./helpers/peaka";
import { callWorker, type Overrides } from "./helpers/worker";

const logs = captureLogs();
const US = "https://console.rivery.io/api";
const EU = "https://eu-west-1.console.rivery.io/api";
const TOKEN = "rivery-test-token-7d1e9a";
const RESULT_KEY = "res_test-result-signing-key-0123456789abcdef";
const AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth?client_id=cid&state=st_rivery_secret_42&display=popup";
const ACCESS = "ya29.rivery-access-token-secret";
const REFRESH = "1//rivery-refresh-token-secret";
const CLIENT_ID = "rivery-client-id-secret.apps.googleusercontent.com";
const CREDENTIALS = {
  application_id: null,
  access_token: ACCESS,
  status_code: 200,
  expires_in: 3599,
  token_type: "Bearer",
  client_id: CLIENT_ID,
  scope: "https://www.googleapis.com/auth/drive",
  message: "Connected to Google",
  refresh_token: REFRESH,
};

function jws(header: object): string {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
  return `${b64(header)}.${b64({ pull_id: crypto.randomUUID() })}.c2lnbmF0dXJl`;
}

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Rivery's three endpoints; each answer comes from a queue (the last one repeats) or a function. */
function mockRivery(
  answers: {
    create?: () => Response | Promise<Response>;
    credentials?: () => Response | Promise<Response>;
    connection?: () => Response | Promise<Response>;
    pullId?: string;
  } = {},
  api = US,
) {
  const seen = { create: [] as Seen[], credentials: [] as Seen[], connection: [] as Seen[] };
  const pullId = answers.pullId ?? jws({ alg: "HS256" });
  const record = async (
    list: Seen[],
    request: { url: string; method: string; headers: Headers; text(): Promise<string> },
  ) => {
    list.push({
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: JSON.parse(await request.text()),
    });
  };
  rivery.use(
    http.post(`${api}/oauth2`, async ({ request }) => {
      await record(seen.create, request);
      return answers.create?.() ?? HttpResponse.json({ pull_id: pullId, auth_uri: AUTH_URI });
    }),
    http.post(`${api}/oauth2/credentials`, async ({ request }) => {
      await record(seen.credentials, request);
      return answers.credentials?.() ?? HttpResponse.json({ message: "not yet" }, { status: 404 });
    }),
    http.put(`${api}/connections`, async ({ request }) => {
      await record(seen.connection, request);
      return (
        answers.connection?.() ??
        HttpResponse.json({
          cross_id: "x1",
          status_code: 200,
          message: "connection saved",
          _id: "64ab01cd",
          connection_name: "Sheets",
        })
      );
    }),
  );
  return { seen, pullId };
}

/** A worker over a clock the test moves; deadlines fire when `expire()` is called. */
function harness(overrides: Overrides = {}) {
  let now = Date.now();
  const pending: AbortController[] = [];
  const clock = {
    now: () => now,
    timeout: () => {
      const controller = new AbortController();
      pending.push(controller);
      return controller.signal;
    },
  };
  const worker = createWorker({ clock });
  const admin = freshToken();
  const vars: Overrides = {
    ADMIN_TOKEN: admin,
    LINK_SIGNING_KEY: LINK_KEY,
    RESULT_SIGNING_KEY: RESULT_KEY,
    RIVERY_API_TOKEN: TOKEN,
    BROWSER_BINDING: "required",
    ...overrides,
  };
  const send = (url: string, init: RequestInit = {}) => callWorker(worker, url, init, vars);
  return {
    send,
    status: (sessionId: string) =>
      send(`${HOST}/api/v1/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${admin}`, accept: "application/json" },
      }),
    advance: (ms: number) => {
      now += ms;
    },
    expire: () => {
      for (const c of pending.splice(0)) c.abort(new DOMException("timeout", "TimeoutError"));
    },
    start: (body: object = {}) =>
      send(
        `${HOST}/api/v1/connections`,
        apiInit(
          "POST",
          { platform: "rivery", type: "gspreadsheet", name: "Sheets", returnUrl: RETURN_URL, ...body },
          admin,
        ),
      ),
  };
}

type Harness = ReturnType<typeof harness>;

/** Starts, opens the startUrl in a browser, and returns that browser's cookie and poll. */
async function started(h: Harness, body: object = {}) {
  const res = await h.start(body);
  expect(res.status).toBe(201);
  const answer = (await res.json()) as { sessionId: string; startUrl: string; expiresAt: string };
  const page = await h.send(answer.startUrl, { headers: { accept: "text/html" } });
  expect(page.status).toBe(200);
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const poll = (withCookie = true) =>
    h.send(`${HOST}/oauth2/sessions/${answer.sessionId}`, {
      headers: { accept: "application/json", ...(withCookie ? { cookie } : {}) },
    });
  return { ...answer, page, cookie, poll };
}

async function body(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe("Rivery configuration", () => {
  it("without a token, a Rivery start is config_invalid naming RIVERY_API_TOKEN; Rivery is not called", async () => {
    const { seen } = mockRivery();
    const h = harness({ RIVERY_API_TOKEN: "" });
    const res = await h.start();
    expect(res.status).toBe(500);
    const json = await body(res);
    expect(json.error).toBe("config_invalid");
    expect(json.message).toContain("RIVERY_API_TOKEN");
    expect(seen.create).toHaveLength(0);
  });

  it("the EU zone uses its own URL and RIVERY_EU_API_TOKEN over RIVERY_API_TOKEN", async () => {
    const { seen } = mockRivery({}, "https://rivery-eu.example.com/api");
    const h = harness({ RIVERY_EU_API_URL: "https://rivery-eu.example.com/api/", RIVERY_EU_API_TOKEN: "eu-token-1" });
    expect((await h.start({ zone: "eu" })).status).toBe(201);
    expect(seen.create[0]?.url).toBe("https://rivery-eu.example.com/api/oauth2");
    expect(seen.create[0]?.headers.authorization).toBe("Bearer eu-token-1");
  });

  it("the EU zone defaults to Rivery's EU host and falls back to RIVERY_API_TOKEN", async () => {
    const { seen } = mockRivery({}, EU);
    expect((await harness().start({ zone: "eu" })).status).toBe(201);
    expect(seen.create[0]?.url).toBe(`${EU}/oauth2`);
    expect(seen.create[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("RIVERY_VALIDITY_SECONDS outside 300-43200 is a config error naming it", async () => {
    for (const value of ["299", "43201", "abc"]) {
      const res = await harness({ RIVERY_VALIDITY_SECONDS: value }).send(`${HOST}/healthz`);
      expect(res.status).toBe(500);
      expect(JSON.stringify(await body(res))).toContain("RIVERY_VALIDITY_SECONDS");
    }
  });
});

describe("Rivery start", () => {
  it("POST {api}/oauth2 with datasource_id and validity_duration; answers sessionId, startUrl, zone, platform, expiresAt", async () => {
    const { seen, pullId } = mockRivery();
    const h = harness({ RIVERY_VALIDITY_SECONDS: "1200" });
    const res = await h.start();
    expect(res.status).toBe(201);
    const json = await body(res);
    expect(json).toEqual({
      sessionId: expect.stringMatching(/^cs_[A-Za-z0-9_-]{24}$/),
      startUrl: expect.stringMatching(
        /^https:\/\/connect\.example\.com\/oauth2\/wait\?s=cs_[A-Za-z0-9_-]{24}&t=[A-Za-z0-9_-]{43}$/,
      ),
      zone: "us",
      platform: "rivery",
      expiresAt: expect.any(String),
    });
    expect(Date.parse(json.expiresAt as string) - Date.now()).toBeGreaterThan(1_190_000);
    expect(RiveryConnectionResponse.safeParse(json).success).toBe(true);
    expect(seen.create).toEqual([
      {
        url: `${US}/oauth2`,
        method: "POST",
        headers: expect.objectContaining({
          authorization: `Bearer ${TOKEN}`,
          "content-type": "application/json",
          accept: "application/json",
        }),
        body: { datasource_id: "gspreadsheet", validity_duration: 1200 },
      },
    ]);
    // Neither the pull nor the auth_uri (its state) is readable in KV.
    const kv = [...(await dumpKv()).values()].join("\n");
    expect(kv).not.toContain(pullId);
    expect(kv).not.toContain("st_rivery_secret_42");
  });

  it("a credential is refused for Rivery", async () => {
    mockRivery();
    const res = await harness().start({ credential: { token: "x" } });
    expect(res.status).toBe(400);
    expect((await body(res)).fields).toEqual([{ field: "credential", problem: expect.any(String) }]);
  });

  it.each([
    [
      "429 (invalid param, not a rate limit)",
      () => HttpResponse.json({ message: "invalid param" }, { status: 429 }),
      502,
      "rivery_rejected",
    ],
    ["401", () => new HttpResponse(null, { status: 401 }), 502, "rivery_rejected"],
    ["500", () => new HttpResponse(null, { status: 500 }), 503, "rivery_unavailable"],
    ["200 without pull_id", () => HttpResponse.json({ auth_uri: AUTH_URI }), 502, "rivery_rejected"],
    [
      "200 with a javascript: auth_uri",
      () => HttpResponse.json({ pull_id: "p", auth_uri: "javascript:alert(1)" }),
      502,
      "rivery_rejected",
    ],
    ["a network failure", () => HttpResponse.error(), 503, "rivery_unavailable"],
  ])("create answering %s → %i %s", async (_name, answer, status, code) => {
    mockRivery({ create: answer });
    const res = await harness().start();
    expect(res.status).toBe(status);
    expect((await body(res)).error).toBe(code);
  });

  it("create timing out → 503 rivery_unavailable", async () => {
    const h = harness();
    mockRivery({
      create: async () => {
        h.expire();
        await delay("infinite");
        return new HttpResponse(null);
      },
    });
    const res = await h.start();
    expect(res.status).toBe(503);
    expect((await body(res)).error).toBe("rivery_unavailable");
  });

  it("a signed link with platform=rivery goes to the waiting page; a Rivery failure goes back to the return URL", async () => {
    mockRivery();
    const h = harness();
    const url = await link({ platform: "rivery", type: "gspreadsheet", name: "Sheets" });
    const res = await h.send(url, { headers: { accept: "text/html", "cf-connecting-ip": "203.0.113.9" } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^https:\/\/connect\.example\.com\/oauth2\/wait\?s=cs_/);

    rivery.resetHandlers();
    mockRivery({ create: () => new HttpResponse(null, { status: 503 }) });
    const failing = await h.send(await link({ platform: "rivery", type: "gspreadsheet", name: "Sheets" }), {
      headers: { accept: "text/html", "cf-connecting-ip": "203.0.113.9" },
    });
    expect(failing.status).toBe(303);
    const back = new URL(failing.headers.get("location") ?? "");
    expect(back.origin + back.pathname).toBe("https://app.example.com/settings");
    expect(back.searchParams.get("status")).toBe("fail");
    expect(back.searchParams.get("error")).toBe("rivery_unavailable");
  });

  it("platform is a signed field: changing it breaks the signature", async () => {
    const url = new URL(await link({ platform: "peaka", type: "gspreadsheet", name: "Sheets" }));
    url.searchParams.set("platform", "rivery");
    const res = await harness().send(url.href, { headers: { accept: "application/json" } });
    expect(res.status).toBe(403);
    expect((await body(res)).error).toBe("link_invalid");
  });
});

describe("the waiting page", () => {
  it("binds the browser; strict CSP, its script and style from this origin; auth_uri in a data attribute only", async () => {
    mockRivery();
    const h = harness();
    const s = await started(h);
    const csp = s.page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toContain("unsafe");
    expect(csp).toMatch(/^default-src 'none';/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(s.cookie).toMatch(/^__Host-pce-[0-9a-f]{16}=[A-Za-z0-9_-]{43}$/);
    const html = await s.page.text();
    expect(html).toContain(`<script src="${WAIT_JS}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="${PAGE_CSS}">`);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/<style| style=/);
    expect(html).toContain(`data-auth="${AUTH_URI.replaceAll("&", "&amp;")}"`);
    expect(html).toContain(`data-status="/oauth2/sessions/${s.sessionId}"`);
    expect(html).toContain("this page notices by itself");

    // A reload in the same browser shows the page again; another browser or a spent link does not.
    const again = await h.send(s.startUrl, { headers: { accept: "text/html", cookie: s.cookie } });
    expect(again.status).toBe(200);
    const other = await h.send(s.startUrl, { headers: { accept: "application/json" } });
    expect(other.status).toBe(403);
    expect((await body(other)).error).toBe("browser_mismatch");
    const forged = new URL(s.startUrl);
    forged.searchParams.set("t", "A".repeat(43));
    expect((await h.send(forged.href, { headers: { accept: "application/json", cookie: s.cookie } })).status).toBe(200);
  });

  it("an unknown or tampered startUrl is 403 link_invalid", async () => {
    mockRivery();
    const h = harness();
    const res = await h.start();
    const { startUrl } = (await res.json()) as { startUrl: string };
    const forged = new URL(startUrl);
    forged.searchParams.set("t", "A".repeat(43));
    const bad = await h.send(forged.href, { headers: { accept: "application/json" } });
    expect(bad.status).toBe(403);
    expect((await body(bad)).error).toBe("link_invalid");
    const unknown = await h.send(`${HOST}/oauth2/wait?s=cs_${"A".repeat(24)}&t=${"A".repeat(43)}`, {
      headers: { accept: "application/json" },
    });
    expect(unknown.status).toBe(403);
  });

  it("its script, served through the worker, reads the data attributes and polls the status URL", async () => {
    const res = await harness().send(`${HOST}${WAIT_JS}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    const script = await res.text();
    expect(script).toContain("document.body.dataset");
    expect(script).toContain("fetch(d.status");
    expect(script).toContain("o.postMessage(j.popup.m,j.popup.t)");
  });
});

describe("polling Rivery", () => {
  it("pending while the credentials are not there; only the bound browser may poll", async () => {
    const { seen, pullId } = mockRivery();
    const h = harness();
    const s = await started(h);
    const res = await s.poll();
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ status: "pending" });
    expect(seen.credentials).toEqual([
      {
        url: `${US}/oauth2/credentials`,
        method: "POST",
        headers: expect.objectContaining({ authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }),
        body: { pull_id: pullId, auth_uri: AUTH_URI },
      },
    ]);
    const stranger = await s.poll(false);
    expect(stranger.status).toBe(403);
    expect((await body(stranger)).error).toBe("browser_mismatch");
    expect(seen.credentials).toHaveLength(1);
  });

  it("at most one credentials call per session every 2 seconds", async () => {
    const { seen } = mockRivery();
    const h = harness();
    const s = await started(h);
    await s.poll();
    h.advance(1999);
    await s.poll();
    expect(seen.credentials).toHaveLength(1);
    h.advance(1);
    await s.poll();
    expect(seen.credentials).toHaveLength(2);
  });

  it("credentials ready: one PUT with the answer untouched; succeeded with next = return URL + connectionId, status, result", async () => {
    const { seen } = mockRivery({ credentials: () => HttpResponse.json(CREDENTIALS) });
    const h = harness();
    const s = await started(h, { reference: "acct-42" });
    expect(await body(await h.status(s.sessionId))).toMatchObject({ status: "pending", platform: "rivery" });
    const res = await s.poll();
    const json = await body(res);
    expect(json).toEqual({ status: "succeeded", connectionId: "64ab01cd", next: expect.any(String) });
    expect(seen.connection).toEqual([
      {
        url: `${US}/connections`,
        method: "PUT",
        headers: expect.objectContaining({ authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }),
        body: { connection_type: "gspreadsheet", connection_name: "Sheets", credentials: CREDENTIALS },
      },
    ]);
    const next = new URL(json.next as string);
    expect(next.origin + next.pathname).toBe("https://app.example.com/settings");
    expect(next.searchParams.get("tab")).toBe("data");
    expect(next.searchParams.get("connectionId")).toBe("64ab01cd");
    expect(next.searchParams.get("status")).toBe("success");
    const claims = await verifyResult(next.searchParams.get("result") ?? "", RESULT_KEY, {
      audience: "https://app.example.com",
    });
    expect(claims).toMatchObject({
      sub: "64ab01cd",
      status: "success",
      via: "exchange",
      zone: "us",
      sid: s.sessionId,
      ref: "acct-42",
    });
    // The same session the status API answers (the sessions core, not a copy).
    expect(await body(await h.status(s.sessionId))).toMatchObject({
      sessionId: s.sessionId,
      platform: "rivery",
      type: "gspreadsheet",
      status: "succeeded",
      connectionId: "64ab01cd",
      reference: "acct-42",
    });

    // Settled: later polls answer the same without calling Rivery.
    h.advance(5000);
    expect((await body(await s.poll())).status).toBe("succeeded");
    expect(seen.credentials).toHaveLength(1);
    expect(seen.connection).toHaveLength(1);

    // The credentials went nowhere else: not KV, not a log line, not the browser.
    const kv = [...(await dumpKv()).values()].join("\n");
    for (const secret of [ACCESS, REFRESH, CLIENT_ID]) {
      expect(kv).not.toContain(secret);
      expect(JSON.stringify(json)).not.toContain(secret);
    }
    logs.expectAbsent(ACCESS, REFRESH, CLIENT_ID, TOKEN);
  });

  it("a popup session's poll answers the opener message, for the return URL's origin only", async () => {
    mockRivery({ credentials: () => HttpResponse.json(CREDENTIALS) });
    const h = harness();
    const s = await started(h, { display: "popup" });
    const json = await body(await s.poll());
    const next = new URL(json.next as string);
    expect(json.popup).toEqual({
      t: "https://app.example.com",
      m: {
        source: "peaka-connect-edge",
        sessionId: s.sessionId,
        connectionId: "64ab01cd",
        status: "success",
        result: next.searchParams.get("result"),
      },
    });
    // A redirect session gets no message: its page only navigates.
    const plain = await started(harness());
    expect(await body(await plain.poll())).not.toHaveProperty("popup");
  });

  it("concurrent polls share one credentials call and one PUT", async () => {
    const { seen } = mockRivery({
      credentials: async () => {
        await delay(20);
        return HttpResponse.json(CREDENTIALS);
      },
    });
    const h = harness();
    const s = await started(h);
    const answers = await Promise.all(Array.from({ length: 6 }, () => s.poll().then(body)));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set(["succeeded"]));
    expect(seen.credentials).toHaveLength(1);
    expect(seen.connection).toHaveLength(1);
  });

  it("past validity_duration the session is expired: back with status=fail&error=expired, Rivery not asked", async () => {
    const { seen } = mockRivery();
    const h = harness({ RIVERY_VALIDITY_SECONDS: "300" });
    const s = await started(h);
    h.advance(300_001);
    const json = await body(await s.poll());
    expect(json.status).toBe("expired");
    const next = new URL(json.next as string);
    expect(next.searchParams.get("status")).toBe("fail");
    expect(next.searchParams.get("error")).toBe("expired");
    expect(seen.credentials).toHaveLength(0);
    // Observed, so ended for good: written expired (and its webhook raised), not only read so.
    expect(await body(await h.status(s.sessionId))).toMatchObject({
      status: "expired",
      error: "expired",
      completedAt: expect.any(String),
    });
  });

  it("a pull_id whose JWS header has an earlier exp ends the session then", async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    mockRivery({ pullId: jws({ alg: "HS256", exp, iat: exp - 60 }) });
    const h = harness();
    const s = await started(h);
    expect(Date.parse(s.expiresAt)).toBe(exp * 1000);
    h.advance(61_000);
    expect((await body(await s.poll())).status).toBe("expired");
  });

  it.each([
    ["403 (our token refused)", () => new HttpResponse(null, { status: 403 }), "failed", "rivery_rejected"],
    ["401", () => new HttpResponse(null, { status: 401 }), "failed", "rivery_rejected"],
    ["500 (the assumption: not ready yet)", () => new HttpResponse(null, { status: 500 }), "pending", undefined],
    ["200 without access_token", () => HttpResponse.json({ message: "waiting" }), "pending", undefined],
    ["200 that is not JSON", () => new HttpResponse("<html>"), "pending", undefined],
    ["a network failure", () => HttpResponse.error(), "pending", undefined],
  ])("credentials answering %s → %s", async (_name, answer, status, error) => {
    const { seen } = mockRivery({ credentials: answer });
    const h = harness();
    const s = await started(h);
    const json = await body(await s.poll());
    expect(json.status).toBe(status);
    if (error) expect(new URL(json.next as string).searchParams.get("error")).toBe(error);
    else expect(json.next).toBeUndefined();
    expect(seen.connection).toHaveLength(0);
  });

  it("credentials timing out stays pending and is asked again on a later poll", async () => {
    const h = harness();
    const { seen } = mockRivery({
      credentials: async () => {
        h.expire();
        await delay("infinite");
        return new HttpResponse(null);
      },
    });
    const s = await started(h);
    expect((await body(await s.poll())).status).toBe("pending");
    h.advance(2000);
    await s.poll();
    expect(seen.credentials).toHaveLength(2);
  });

  it.each([
    ["500", () => new HttpResponse(null, { status: 500 }), "rivery_unavailable"],
    ["400", () => HttpResponse.json({ message: "bad" }, { status: 400 }), "rivery_rejected"],
    ["200 without _id", () => HttpResponse.json({ message: "connection saved" }), "rivery_rejected"],
  ])("the connection request answering %s → failed %s, never repeated", async (_name, answer, error) => {
    const { seen } = mockRivery({ credentials: () => HttpResponse.json(CREDENTIALS), connection: answer });
    const h = harness();
    const s = await started(h);
    const json = await body(await s.poll());
    expect(json.status).toBe("failed");
    const next = new URL(json.next as string);
    expect(next.searchParams.get("status")).toBe("fail");
    expect(next.searchParams.get("error")).toBe(error);
    h.advance(5000);
    await s.poll();
    expect(seen.connection).toHaveLength(1);
    logs.expectAbsent(ACCESS, REFRESH);
  });

  it("with BROWSER_BINDING=off nothing is bound, and the poll still reaches the sealed pull", async () => {
    const { seen, pullId } = mockRivery({ credentials: () => HttpResponse.json(CREDENTIALS) });
    const h = harness({ BROWSER_BINDING: "off" });
    const s = await started(h);
    expect(s.page.headers.get("set-cookie")).toBeNull();
    const json = await body(await s.poll(false));
    expect(json.status).toBe("succeeded");
    expect(seen.credentials[0]?.body).toEqual({ pull_id: pullId, auth_uri: AUTH_URI });
  });

  it("HEAD on the status route is 405 and asks Rivery nothing", async () => {
    const { seen } = mockRivery();
    const h = harness();
    const s = await started(h);
    const res = await h.send(`${HOST}/oauth2/sessions/${s.sessionId}`, {
      method: "HEAD",
      headers: { cookie: s.cookie },
    });
    expect(res.status).toBe(405);
    expect(seen.credentials).toHaveLength(0);
  });

  it("an unknown session is 404 JSON", async () => {
    const res = await harness().send(`${HOST}/oauth2/sessions/cs_${"B".repeat(24)}`, {
      headers: { accept: "application/json" },
    });
    expect(res.status).toBe(404);
    expect((await body(res)).error).toBe("unknown_connection");
  });
});

describe("credentialsReady (the assumption, in one place)", () => {
  it("ready only for a 2xx whose body has a non-empty access_token", () => {
    expect(credentialsReady({ status: 200, body: CREDENTIALS })).toBe(true);
    expect(credentialsReady({ status: 201, body: { access_token: "a" } })).toBe(true);
    expect(credentialsReady({ status: 200, body: { access_token: "" } })).toBe(false);
    expect(credentialsReady({ status: 200, body: {} })).toBe(false);
    expect(credentialsReady({ status: 200, body: undefined })).toBe(false);
    expect(credentialsReady({ status: 200, body: [CREDENTIALS] })).toBe(false);
    expect(credentialsReady({ status: 404, body: CREDENTIALS })).toBe(false);
    expect(credentialsReady({ status: 500, body: CREDENTIALS })).toBe(false);
  });
});
