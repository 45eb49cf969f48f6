import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Store } from "../src/storage/store";
import { captureLogs } from "./helpers/logs";
import { API_CLIENT, BROWSER, call } from "./helpers/worker";

const HOST = "https://connect.example.com";
const store = new Store(env.CONNECTIONS, 3600);
const logs = captureLogs();

async function registered(returnUrl = "https://app.example.com/settings?tab=data&sig=a%2Bb") {
  const id = `conn-${crypto.randomUUID()}`;
  await store.putConnection(id, { returnUrl, zone: "us", mode: "relay", createdAt: Date.now() });
  return id;
}

describe("complete (guide steps 10-11)", () => {
  it("sends the user back with connectionId and status, keeping the return URL's own query byte for byte", async () => {
    const id = await registered();
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      `https://app.example.com/settings?tab=data&sig=a%2Bb&connectionId=${id}&status=success`,
    );
  });

  it("accepts the guide's literal form ?connectionId=X?status=Y", async () => {
    const id = await registered("https://app.example.com/start");
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}?status=success`);
    expect(res.headers.get("location")).toBe(`https://app.example.com/start?connectionId=${id}&status=success`);
  });

  it.each(["fail", "FAILED", "", "Success", "success2"])("treats status %j as fail", async (status) => {
    const id = await registered("https://app.example.com/start");
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=${status}`);
    expect(new URL(res.headers.get("location") ?? "").searchParams.get("status")).toBe("fail");
  });

  it("treats a missing status as fail", async () => {
    const id = await registered("https://app.example.com/start");
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}`);
    expect(new URL(res.headers.get("location") ?? "").searchParams.get("status")).toBe("fail");
  });

  it("replaces our parameters when the return URL already carries them", async () => {
    const id = await registered("https://app.example.com/start?status=old&x=1");
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`);
    const to = new URL(res.headers.get("location") ?? "");
    expect(to.searchParams.getAll("status")).toEqual(["success"]);
    expect(to.searchParams.get("x")).toBe("1");
  });

  it("keeps a fragment on the return URL", async () => {
    const id = await registered("https://app.example.com/start#connections");
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`);
    expect(res.headers.get("location")).toBe(
      `https://app.example.com/start?connectionId=${id}&status=success#connections`,
    );
  });

  it("is single-use: the record is deleted after the redirect", async () => {
    const id = await registered();
    const first = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`);
    expect(first.status).toBe(303);
    expect(await env.CONNECTIONS.get(`conn:${id}`)).toBeNull();
    const second = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { headers: BROWSER });
    expect(second.status).toBe(404);
  });

  it("without a record, shows the error page with the connectionId and a request id", async () => {
    const res = await call(`${HOST}/oauth2/complete?connectionId=never-started&status=success`, { headers: BROWSER });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    const requestId = res.headers.get("x-request-id") ?? "missing";
    expect(page).toContain("unknown_connection");
    expect(page).toContain("never-started");
    expect(page).toContain(requestId);
    const line = logs.json().find((l) => l.msg === "request");
    expect(line).toMatchObject({
      route: "complete",
      status: 404,
      error: "unknown_connection",
      connectionId: "never-started",
      requestId,
    });
  });

  it("without a record, uses DEFAULT_RETURN_URL with the same parameters", async () => {
    const res = await call(
      `${HOST}/oauth2/complete?connectionId=never-started&status=fail`,
      {},
      {
        DEFAULT_RETURN_URL: "https://app.example.com/connections",
      },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      "https://app.example.com/connections?connectionId=never-started&status=fail",
    );
  });

  it("treats an expired record as missing", async () => {
    const id = `conn-${crypto.randomUUID()}`;
    const record = {
      v: 1,
      returnUrl: "https://app.example.com/x",
      zone: "us",
      mode: "relay",
      createdAt: 0,
      expiresAt: Date.now() - 1,
    };
    await env.CONNECTIONS.put(`conn:${id}`, JSON.stringify(record), { expirationTtl: 60 });
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { headers: BROWSER });
    expect(res.status).toBe(404);
  });

  it("treats a malformed record as missing", async () => {
    const id = `conn-${crypto.randomUUID()}`;
    await env.CONNECTIONS.put(`conn:${id}`, "{not json", { expirationTtl: 60 });
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { headers: BROWSER });
    expect(res.status).toBe(404);
  });

  it("refuses a stored return URL that the allow-list no longer accepts", async () => {
    const id = await registered("https://old-app.example.com/settings");
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, { headers: BROWSER });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    const page = await res.text();
    expect(page).toContain("return_url_not_allowed");
    expect(page).toContain(id);
  });

  it.each([
    "status=success",
    "connectionId=&status=success",
    "connectionId=a%2Fb&status=success",
    "connectionId=a.b",
    `connectionId=${"a".repeat(129)}`,
    "connectionId=%F0%9F%94%91",
    "connectionId=a&connectionId=b",
  ])("answers 400 for %s and reads no KV", async (query) => {
    const untouchable = new Proxy(env.CONNECTIONS, {
      get() {
        throw new Error("no KV for invalid input");
      },
    });
    const res = await call(`${HOST}/oauth2/complete?${query}`, { headers: BROWSER }, { CONNECTIONS: untouchable });
    expect(res.status).toBe(400);
  });

  it("answers JSON to API clients", async () => {
    const res = await call(`${HOST}/oauth2/complete?connectionId=bad.id`, { headers: API_CLIENT });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toMatchObject({ error: "invalid_request", requestId: res.headers.get("x-request-id") });
  });

  it("shows storage_unavailable with the connectionId when KV fails", async () => {
    const broken = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        if (prop === "get") return () => Promise.reject(new Error("KV down"));
        return Reflect.get(target, prop);
      },
    });
    const res = await call(
      `${HOST}/oauth2/complete?connectionId=c-1&status=success`,
      { headers: BROWSER },
      { CONNECTIONS: broken },
    );
    expect(res.status).toBe(503);
    const page = await res.text();
    expect(page).toContain("storage_unavailable");
    expect(page).toContain("c-1");
    expect(page).not.toContain("KV down");
  });

  it("still redirects when deleting the used record fails", async () => {
    const id = await registered("https://app.example.com/x");
    const flaky = new Proxy(env.CONNECTIONS, {
      get(target, prop) {
        if (prop === "delete") return () => Promise.reject(new Error("KV delete failed"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await call(`${HOST}/oauth2/complete?connectionId=${id}&status=success`, {}, { CONNECTIONS: flaky });
    expect(res.status).toBe(303);
    expect(logs.json().some((l) => l.msg === "background_task_failed" && l.task === "delete_connection")).toBe(true);
  });

  it("serves a custom COMPLETE_PATH", async () => {
    const id = await registered("https://app.example.com/x");
    const res = await call(
      `${HOST}/peaka/done?connectionId=${id}&status=success`,
      {},
      { COMPLETE_PATH: "/peaka/done" },
    );
    expect(res.status).toBe(303);
    const old = await call(
      `${HOST}/oauth2/complete?connectionId=${id}&status=success`,
      { headers: BROWSER },
      { COMPLETE_PATH: "/peaka/done" },
    );
    expect(old.status).toBe(404);
  });
});
