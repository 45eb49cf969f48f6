import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { systemClock } from "../src/clock";
import type { Env } from "../src/config/env";
import { parseConfig } from "../src/config/load";
import { buildApp } from "../src/edge/app";
import { relayFastPath } from "../src/edge/routes/relay-fast";
import { captureLogs } from "./helpers/logs";
import { testEnv } from "./helpers/worker";

const HOST = "https://connect.example.com";
const logs = captureLogs();

function configOf(env: Env) {
  const result = parseConfig(env);
  if (!result.ok) throw new Error("test config must parse");
  return result.config;
}

/** Status, headers (but the request id) and the log line (but id and timing) of one answer. */
async function observe(answer: (request: Request) => Promise<Response> | Response, url: string, init?: RequestInit) {
  const before = logs.lines.length;
  const res = await answer(new Request(url, init));
  const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== "x-request-id"));
  const line = JSON.parse(logs.lines[before] ?? "{}") as Record<string, unknown>;
  delete line.requestId;
  delete line.durationMs;
  return { status: res.status, headers, body: await res.text(), line };
}

describe("relay fast path", () => {
  const env = testEnv();
  const config = configOf(env);
  const app = buildApp({ ok: true, config }, { clock: systemClock, fetch });
  const viaApp = async (request: Request) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(request, env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  const viaFastPath = async (request: Request) => {
    const res = await relayFastPath(request, config, systemClock);
    if (!res) throw new Error("the fast path should have answered");
    return res;
  };

  it.each([
    "/oauth2/mycallback?code=4%2F0AX&state=a%2Bb%20c+d&scope=openid%20email",
    "/oauth2/mycallback",
    "/oauth2/mycallback?",
    "/oauth2/mycallback?a=1&a=2&x=%E2%9C%93",
  ])("answers %s exactly as the full app does", async (path) => {
    for (const method of ["GET", "HEAD"]) {
      const fast = await observe(viaFastPath, `${HOST}${path}`, { method });
      const full = await observe(viaApp, `${HOST}${path}`, { method });
      expect(fast).toEqual(full);
      expect(fast.status).toBe(307);
    }
  });

  it("maps the host to its zone like the full app", async () => {
    const hostEnv = testEnv({ ZONE_BY_HOST: "connect.eu.example.com=eu", PEAKA_ZONE: "us" });
    const hostConfig = configOf(hostEnv);
    // EU has no callback here, so only the US host is served by the fast path.
    expect(
      relayFastPath(new Request("https://connect.eu.example.com/oauth2/mycallback?code=a"), hostConfig, systemClock),
    ).toBeUndefined();
    const res = await relayFastPath(new Request(`${HOST}/oauth2/mycallback?code=a`), hostConfig, systemClock);
    expect(res?.headers.get("location")).toBe("https://peaka.studio/oauth2/callback?code=a");
  });

  it.each<[string, string, RequestInit | undefined, Partial<Env>]>([
    ["a POST (form_post body)", "/oauth2/mycallback?code=a", { method: "POST", body: "x=1" }, {}],
    ["another path", "/oauth2/complete?connectionId=a", undefined, {}],
    ["a trailing slash", "/oauth2/mycallback/?code=a", undefined, {}],
    ["a duplicated code", "/oauth2/mycallback?code=a&code=b", undefined, {}],
    ["a duplicated state", "/oauth2/mycallback?state=a&state=b", undefined, {}],
    ["an over-long URL", `/oauth2/mycallback?state=${"s".repeat(17 * 1024)}`, undefined, {}],
    ["exchange mode", "/oauth2/mycallback?code=a", undefined, { CALLBACK_MODE: "exchange" }],
    [
      "two relay zones (needs KV)",
      "/oauth2/mycallback?code=a",
      undefined,
      { PEAKA_EU_CALLBACK_URL: "https://eu.peaka.example/cb" },
    ],
    ["a zone without a callback", "/oauth2/mycallback?code=a", undefined, { PEAKA_ZONE: "eu" }],
  ])("leaves %s to the full app", (_name, path, init, overrides) => {
    expect(
      relayFastPath(new Request(`${HOST}${path}`, init), configOf(testEnv(overrides)), systemClock),
    ).toBeUndefined();
  });
});
