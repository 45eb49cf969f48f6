import { env } from "cloudflare:test";
import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/security/hash";
import { Store } from "../src/storage/store";
import { captureLogs } from "./helpers/logs";
import { API_KEY, connectionJson, EU_API, mockExchange, peaka, US_API } from "./helpers/peaka";
import { BROWSER, call, callWorker, timingOutWorker } from "./helpers/worker";

const HOST = "https://connect.example.com";
const EXCHANGE = { CALLBACK_MODE: "exchange" };
const store = new Store(env.CONNECTIONS, 3600);
const logs = captureLogs();

function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** A connection started by the start step: connection record plus state record. */
async function started(connectionId: string, state: string, returnUrl = "https://app.example.com/settings?tab=data") {
  await store.putConnection(connectionId, { returnUrl, zone: "us", mode: "exchange", createdAt: Date.now() });
  await store.putState(state, { connectionId, returnUrl, zone: "us" });
}

function location(res: Response): URL {
  const value = res.headers.get("location");
  expect(value).not.toBeNull();
  return new URL(value as string);
}

describe("exchange (guide 2.b.3, own callback)", () => {
  it("posts the raw query to Peaka and sends the user back with success", async () => {
    const id = unique("conn");
    const state = unique("state");
    const code = unique("code");
    await started(id, state);
    const query = `state=${state}&code=${code}&scope=a%20b+c&authuser=0`;
    const seen = mockExchange(() => connectionJson(id));

    const res = await call(
      `${HOST}/oauth2/mycallback?${query}`,
      { headers: { ...BROWSER, cookie: "session=partner-cookie", "x-forwarded-for": "1.2.3.4" } },
      EXCHANGE,
    );

    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      `https://app.example.com/settings?tab=data&connectionId=${id}&status=success`,
    );
    expect(seen).toHaveLength(1);
    const sent = seen[0];
    expect(sent?.url).toBe(`${US_API}/connections/proj_test/oauth2`);
    expect(sent?.method).toBe("POST");
    expect(JSON.parse(sent?.body ?? "")).toEqual({ queryParameters: query });
    expect(sent?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent?.headers["content-type"]).toBe("application/json");
    // Nothing from the browser's request travels to Peaka.
    expect(sent?.headers.cookie).toBeUndefined();
    expect(sent?.headers["x-forwarded-for"]).toBeUndefined();
    expect(Object.keys(sent?.headers ?? {}).sort()).toEqual(["accept", "authorization", "content-type"]);
    logs.expectAbsent(code, state, API_KEY);
    // Single use: the connection record is gone once the user is back.
    expect(await store.getConnection(id)).toBeUndefined();
  });

  it("posts a form_post body as the queryParameters string", async () => {
    const id = unique("conn");
    const state = unique("state");
    const code = unique("code");
    await started(id, state);
    const body = `code=${code}&state=${state}&iss=https%3A%2F%2Fidp.example`;
    const seen = mockExchange(() => connectionJson(id));
    const res = await call(
      `${HOST}/oauth2/mycallback`,
      { method: "POST", headers: { ...BROWSER, "content-type": "application/x-www-form-urlencoded" }, body },
      EXCHANGE,
    );
    expect(res.status).toBe(303);
    expect(location(res).searchParams.get("connectionId")).toBe(id);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ queryParameters: body });
  });

  it("refuses a form_post body over 16 KiB with 413 and calls nobody", async () => {
    const seen = mockExchange(() => connectionJson("never"));
    const res = await call(
      `${HOST}/oauth2/mycallback`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `code=${"c".repeat(16 * 1024)}`,
      },
      EXCHANGE,
    );
    expect(res.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it("answers HEAD with 405 in exchange mode", async () => {
    const res = await call(`${HOST}/oauth2/mycallback?code=x`, { method: "HEAD" }, EXCHANGE);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
  });

  it("uses the zone of the state record (EU API, EU project and key)", async () => {
    const id = unique("conn");
    const state = unique("state");
    await store.putState(state, { connectionId: id, returnUrl: "https://app.example.com/eu", zone: "eu" });
    const seen = mockExchange(() => connectionJson(id), EU_API, "proj_eu");
    const res = await call(
      `${HOST}/oauth2/mycallback?code=${unique("code")}&state=${state}`,
      {},
      {
        ...EXCHANGE,
        PEAKA_EU_PROJECT_ID: "proj_eu",
        PEAKA_EU_API_KEY: "eu-key-77",
      },
    );
    expect(res.status).toBe(303);
    expect(location(res).pathname).toBe("/eu");
    expect(seen[0]?.headers.authorization).toBe("Bearer eu-key-77");
  });

  describe("a replayed outcome stored by another release", () => {
    async function replayStored(error: string, withReturn: boolean) {
      const code = unique("code");
      const id = unique("conn");
      // Written as a newer release would: a failure code this one does not know.
      await env.CONNECTIONS.put(
        `code:${await sha256Hex(code)}`,
        JSON.stringify({
          v: 1,
          status: "fail",
          connectionId: id,
          ...(withReturn ? { returnUrl: "https://app.example.com/settings" } : {}),
          error,
          expiresAt: Date.now() + 60_000,
        }),
      );
      const seen = mockExchange(() => connectionJson(id));
      const res = await call(`${HOST}/oauth2/mycallback?code=${code}`, { headers: BROWSER }, EXCHANGE);
      expect(seen).toHaveLength(0);
      return { res, id };
    }

    it("maps an unknown failure code to peaka_rejected on the way back", async () => {
      const { res, id } = await replayStored("some_code_added_later", true);
      expect(res.status).toBe(303);
      expect(Object.fromEntries(location(res).searchParams)).toEqual({
        connectionId: id,
        status: "fail",
        error: "peaka_rejected",
      });
    });

    it("maps an unknown failure code to a defined error page, not a 500", async () => {
      const { res, id } = await replayStored("some_code_added_later", false);
      expect(res.status).toBe(502);
      const page = await res.text();
      expect(page).toContain("peaka_rejected");
      expect(page).toContain(id);
    });
  });

  describe("user denied", () => {
    it("sends the user back with the provider's error without calling Peaka", async () => {
      const id = unique("conn");
      const state = unique("state");
      await started(id, state);
      const seen = mockExchange(() => connectionJson(id));
      const res = await call(
        `${HOST}/oauth2/mycallback?error=access_denied&error_description=The+user+said+no&state=${state}`,
        {},
        EXCHANGE,
      );
      expect(res.status).toBe(303);
      const to = location(res);
      expect(to.origin + to.pathname).toBe("https://app.example.com/settings");
      expect(to.searchParams.get("connectionId")).toBe(id);
      expect(to.searchParams.get("status")).toBe("fail");
      expect(to.searchParams.get("error")).toBe("access_denied");
      expect(to.searchParams.get("error_description")).toBe("The user said no");
      expect(seen).toHaveLength(0);
      logs.expectAbsent(state);
    });

    it("does not pass on a provider error that is not a plain code", async () => {
      const id = unique("conn");
      const state = unique("state");
      await started(id, state);
      const res = await call(`${HOST}/oauth2/mycallback?error=%3Cscript%3E&state=${state}`, {}, EXCHANGE);
      expect(location(res).searchParams.get("error")).toBe("provider_error");
    });

    it("shows the error page when the state is unknown", async () => {
      const res = await call(
        `${HOST}/oauth2/mycallback?error=access_denied&state=unknown`,
        { headers: BROWSER },
        EXCHANGE,
      );
      expect(res.status).toBe(400);
      const page = await res.text();
      expect(page).toContain("provider_denied");
      expect(page).toContain(res.headers.get("x-request-id"));
    });
  });

  it("answers 400 when the callback has neither code nor error", async () => {
    const res = await call(`${HOST}/oauth2/mycallback?state=s`, { headers: { accept: "application/json" } }, EXCHANGE);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request", requestId: res.headers.get("x-request-id") });
  });

  describe("when Peaka fails", () => {
    const failures: [string, () => Response | Promise<Response>, string][] = [
      ["answers 401", () => new HttpResponse("no", { status: 401 }), "peaka_rejected"],
      ["answers 500", () => new HttpResponse("boom", { status: 500 }), "peaka_unavailable"],
      [
        "answers malformed JSON",
        () => new HttpResponse('{"id":', { status: 200, headers: { "content-type": "application/json" } }),
        "peaka_rejected",
      ],
      ["answers the wrong shape", () => HttpResponse.json({ connection: "x" }), "peaka_rejected"],
      [
        "redirects",
        () => new HttpResponse(null, { status: 302, headers: { location: "https://elsewhere.example/" } }),
        "peaka_rejected",
      ],
      ["resets the connection", () => HttpResponse.error(), "peaka_unavailable"],
    ];

    it.each(failures)("%s: user goes back with status=fail", async (_name, respond, error) => {
      const id = unique("conn");
      const state = unique("state");
      const code = unique("code");
      await started(id, state);
      mockExchange(respond);
      const res = await call(`${HOST}/oauth2/mycallback?code=${code}&state=${state}`, {}, EXCHANGE);
      expect(res.status).toBe(303);
      const to = location(res);
      expect(to.origin + to.pathname).toBe("https://app.example.com/settings");
      expect(Object.fromEntries(to.searchParams)).toEqual({ tab: "data", connectionId: id, status: "fail", error });
      logs.expectAbsent(code, state, API_KEY);
      const line = logs.json().find((l) => l.msg === "request");
      expect(line?.error).toBe(error);
      expect(String(line?.cause)).toMatch(/^Peaka/);
      // The level follows the outcome: a Peaka failure is an error even though the user got a 303.
      expect(line?.level).toBe("error");
    });

    it("times out: user goes back with peaka_unavailable; PEAKA_TIMEOUT_MS is the deadline", async () => {
      const id = unique("conn");
      const state = unique("state");
      const code = unique("code");
      await started(id, state);
      const { worker, asked, expire } = timingOutWorker();
      mockExchange(async () => {
        expire();
        await delay("infinite");
        return connectionJson("late");
      });
      const res = await callWorker(worker, `${HOST}/oauth2/mycallback?code=${code}&state=${state}`, {}, EXCHANGE);
      expect(res.status).toBe(303);
      expect(Object.fromEntries(location(res).searchParams)).toEqual({
        tab: "data",
        connectionId: id,
        status: "fail",
        error: "peaka_unavailable",
      });
      expect(logs.json().find((l) => l.msg === "request")).toMatchObject({
        level: "error",
        error: "peaka_unavailable",
        cause: "PeakaTimeoutError",
      });
      expect(asked).toEqual([200]);
    });

    it("shows the error page when the connection cannot be resolved", async () => {
      mockExchange(() => new HttpResponse("down", { status: 503 }));
      const res = await call(`${HOST}/oauth2/mycallback?code=${unique("code")}`, { headers: BROWSER }, EXCHANGE);
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toContain("text/html");
      const page = await res.text();
      expect(page).toContain("peaka_unavailable");
      expect(page).not.toMatch(/at \w+ \(|\.ts:\d+/);
    });

    it("redirects to ERROR_URL instead of the built-in page when configured", async () => {
      mockExchange(() => new HttpResponse("down", { status: 503 }));
      const res = await call(
        `${HOST}/oauth2/mycallback?code=${unique("code")}`,
        { headers: BROWSER },
        {
          ...EXCHANGE,
          ERROR_URL: "https://app.example.com/oauth-error",
        },
      );
      expect(res.status).toBe(303);
      const to = location(res);
      expect(to.origin + to.pathname).toBe("https://app.example.com/oauth-error");
      expect(to.searchParams.get("error")).toBe("peaka_unavailable");
      expect(to.searchParams.get("requestId")).toBe(res.headers.get("x-request-id"));
    });
  });

  it("gives a repeated callback with the same code the same outcome without a second call", async () => {
    const id = unique("conn");
    const state = unique("state");
    const code = unique("code");
    await started(id, state);
    const seen = mockExchange(() => connectionJson(id));
    const url = `${HOST}/oauth2/mycallback?code=${code}&state=${state}`;
    const first = await call(url, {}, EXCHANGE);
    const second = await call(url, {}, EXCHANGE);
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(seen).toHaveLength(1);
    // The outcome is stored under a hash of the code, never the code itself.
    const keys = (await env.CONNECTIONS.list()).keys.map((k) => k.name);
    expect(keys.some((k) => k.includes(code))).toBe(false);
  });

  it("replays a failure too, without calling Peaka again", async () => {
    const id = unique("conn");
    const state = unique("state");
    await started(id, state);
    const seen = mockExchange(() => new HttpResponse(null, { status: 400 }));
    const url = `${HOST}/oauth2/mycallback?code=${unique("code")}&state=${state}`;
    const first = await call(url, {}, EXCHANGE);
    const second = await call(url, {}, EXCHANGE);
    expect(location(first).searchParams.get("error")).toBe("peaka_rejected");
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(seen).toHaveLength(1);
  });

  it("falls back to the connection record when the callback has no known state", async () => {
    const id = unique("conn");
    await store.putConnection(id, {
      returnUrl: "https://app.example.com/by-record",
      zone: "us",
      mode: "exchange",
      createdAt: Date.now(),
    });
    mockExchange(() => connectionJson(id));
    const res = await call(`${HOST}/oauth2/mycallback?code=${unique("code")}`, {}, EXCHANGE);
    expect(location(res).pathname).toBe("/by-record");
  });

  it("uses DEFAULT_RETURN_URL when Peaka confirms a connection nobody registered", async () => {
    mockExchange(() => connectionJson("conn-unregistered"));
    const res = await call(
      `${HOST}/oauth2/mycallback?code=${unique("code")}`,
      {},
      {
        ...EXCHANGE,
        DEFAULT_RETURN_URL: "https://app.example.com/connections",
      },
    );
    expect(res.headers.get("location")).toBe(
      "https://app.example.com/connections?connectionId=conn-unregistered&status=success",
    );
  });

  it("still exchanges when KV reads fail, and shows storage_unavailable if the way back is lost", async () => {
    const broken = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        if (prop === "get") return () => Promise.reject(new Error("KV down"));
        return Reflect.get(target, prop);
      },
    });
    const seen = mockExchange(() => connectionJson("conn-kv"));
    const res = await call(
      `${HOST}/oauth2/mycallback?code=${unique("code")}&state=s`,
      { headers: BROWSER },
      {
        ...EXCHANGE,
        CONNECTIONS: broken,
      },
    );
    expect(seen).toHaveLength(1);
    expect(res.status).toBe(503);
    const page = await res.text();
    expect(page).toContain("storage_unavailable");
    expect(page).toContain("conn-kv");
  });

  it("answers 500 naming the variable when the zone has no API key", async () => {
    peaka.use(http.post(`${US_API}/*`, () => HttpResponse.json({ id: "x" })));
    const res = await call(
      `${HOST}/oauth2/mycallback?code=${unique("code")}`,
      { headers: { accept: "application/json" } },
      {
        ...EXCHANGE,
        PEAKA_API_KEY: "",
      },
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("config_invalid");
    expect(body.message).toContain("PEAKA_US_API_KEY (or PEAKA_API_KEY)");
  });
});
