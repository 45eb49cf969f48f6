import { describe, expect, it } from "vitest";
import type { Env } from "../src/config/env";
import { parseConfig, requireZoneSetting } from "../src/config/load";
import { captureLogs } from "./helpers/logs";
import { API_CLIENT, BROWSER, call, testEnv } from "./helpers/worker";

const kv = {} as KVNamespace;
const logs = captureLogs();

function parse(vars: Partial<Record<keyof Env, string>>) {
  return parseConfig({ CONNECTIONS: kv, ...vars } as Env);
}

function problems(vars: Partial<Record<keyof Env, string>>) {
  const result = parse(vars);
  if (result.ok) throw new Error("expected a config error");
  return result.error.problems;
}

describe("configuration", () => {
  it("applies the documented defaults", () => {
    const result = parse({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.defaultZone).toBe("us");
    expect(config.mode).toBe("relay");
    expect(config.callbackPath).toBe("/oauth2/mycallback");
    expect(config.completePath).toBe("/oauth2/complete");
    expect(config.recordTtlSeconds).toBe(3600);
    expect(config.peakaTimeoutMs).toBe(10_000);
    expect(config.returnOrigins.size).toBe(0);
    expect(config.zones.us.apiUrl).toBe("https://partner.peaka.studio/api/v1");
    expect(config.zones.eu.apiUrl).toBe("https://partner.eu.peaka.studio/api/v1");
    expect(config.zones.us.callbackUrl).toBe("https://peaka.studio/oauth2/callback");
    expect(config.zones.eu.callbackUrl).toBeUndefined();
    expect(config.relayZones).toEqual(["us"]);
  });

  it("lets per-zone project ids and keys override the shared ones", () => {
    const result = parse({
      PEAKA_PROJECT_ID: "shared",
      PEAKA_EU_PROJECT_ID: "eu_only",
      PEAKA_API_KEY: "k1",
      PEAKA_US_API_KEY: "k2",
    });
    if (!result.ok) throw new Error("config should parse");
    expect(result.config.zones.us.projectId).toBe("shared");
    expect(result.config.zones.eu.projectId).toBe("eu_only");
    expect(result.config.zones.us.apiKey).toBe("k2");
    expect(result.config.zones.eu.apiKey).toBe("k1");
  });

  it("accepts the alternative EU host spelling and strips a trailing slash", () => {
    const result = parse({ PEAKA_EU_API_URL: "https://eu.partner.peaka.studio/api/v1/" });
    if (!result.ok) throw new Error("config should parse");
    expect(result.config.zones.eu.apiUrl).toBe("https://eu.partner.peaka.studio/api/v1");
  });

  it("parses ZONE_BY_HOST and RETURN_ORIGINS lists", () => {
    const result = parse({
      ZONE_BY_HOST: " connect.eu.example.com=eu ,Connect.Example.com=us",
      RETURN_ORIGINS: "https://app.example.com, https://APP2.example.com:8443/,http://localhost:3000",
    });
    if (!result.ok) throw new Error("config should parse");
    expect([...result.config.zoneByHost]).toEqual([
      ["connect.eu.example.com", "eu"],
      ["connect.example.com", "us"],
    ]);
    expect([...result.config.returnOrigins]).toEqual([
      "https://app.example.com",
      "https://app2.example.com:8443",
      "http://localhost:3000",
    ]);
  });

  it.each([
    [{ PEAKA_ZONE: "asia" }, "PEAKA_ZONE"],
    [{ CALLBACK_MODE: "proxy" }, "CALLBACK_MODE"],
    [{ CALLBACK_PATH: "oauth2/cb" }, "CALLBACK_PATH"],
    [{ COMPLETE_PATH: "/done?x=1" }, "COMPLETE_PATH"],
    [{ COMPLETE_PATH: "/oauth2/mycallback" }, "COMPLETE_PATH"],
    [{ RECORD_TTL_SECONDS: "59" }, "RECORD_TTL_SECONDS"],
    [{ RECORD_TTL_SECONDS: "1h" }, "RECORD_TTL_SECONDS"],
    [{ PEAKA_TIMEOUT_MS: "0" }, "PEAKA_TIMEOUT_MS"],
    [{ ZONE_BY_HOST: "connect.example.com:eu" }, "ZONE_BY_HOST"],
    [{ ZONE_BY_HOST: "connect.example.com=apac" }, "ZONE_BY_HOST"],
    [{ RETURN_ORIGINS: "http://app.example.com" }, "RETURN_ORIGINS"],
    [{ RETURN_ORIGINS: "https://app.example.com/path" }, "RETURN_ORIGINS"],
    [{ RETURN_ORIGINS: "app.example.com" }, "RETURN_ORIGINS"],
    [
      { DEFAULT_RETURN_URL: "https://elsewhere.example/x", RETURN_ORIGINS: "https://app.example.com" },
      "DEFAULT_RETURN_URL",
    ],
    [{ DEFAULT_RETURN_URL: "https://app.example.com/x" }, "DEFAULT_RETURN_URL"],
    [{ ERROR_URL: "javascript:alert(1)" }, "ERROR_URL"],
  ] as [Partial<Record<keyof Env, string>>, string][])("rejects %j naming %s", (vars, variable) => {
    expect(problems(vars).map((p) => p.variable)).toContain(variable);
  });

  it("reports a bad zone URL only when that zone's setting is used", () => {
    const result = parse({ PEAKA_EU_CALLBACK_URL: "ftp://peaka.example/cb", PEAKA_EU_API_URL: "not a url" });
    if (!result.ok) throw new Error("the US zone must keep working");
    expect(result.config.relayZones).toEqual(["us"]);
    expect(() => requireZoneSetting(result.config.zones.eu, "callbackUrl")).toThrow(/PEAKA_EU_CALLBACK_URL/);
    expect(() => requireZoneSetting(result.config.zones.eu, "apiUrl")).toThrow(/PEAKA_EU_API_URL/);
  });

  it("never quotes a secret's value in a problem", () => {
    const secret = "sk live with spaces 9f8e7d";
    const result = parse({ PEAKA_API_KEY: secret });
    if (!result.ok) throw new Error("config should parse");
    let message = "";
    try {
      requireZoneSetting(result.config.zones.us, "apiKey");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("PEAKA_API_KEY");
    expect(message).not.toContain("9f8e7d");
  });
});

describe("a bad configuration at request time", () => {
  it("answers 500 with a page naming the variable, for every route, and logs it once", async () => {
    const env = testEnv({ RECORD_TTL_SECONDS: "tenQz", CALLBACK_MODE: "both" });
    const { default: worker } = await import("../src/index");
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    for (const path of ["/oauth2/mycallback?code=c-secret", "/oauth2/complete?connectionId=x", "/anything"]) {
      const res = await worker.fetch(new Request(`https://connect.example.com${path}`, { headers: BROWSER }), env, ctx);
      expect(res.status).toBe(500);
      const page = await res.text();
      expect(page).toContain("config_invalid");
      expect(page).toContain("RECORD_TTL_SECONDS");
      expect(page).toContain("CALLBACK_MODE");
      expect(page).not.toContain("c-secret");
      expect(page).not.toContain("tenQz");
    }
    const events = logs.json().filter((l) => l.msg === "config_invalid");
    expect(events.map((e) => e.variable).sort()).toEqual(["CALLBACK_MODE", "RECORD_TTL_SECONDS"]);
  });

  it("names a missing secret without revealing other secrets, in JSON for API clients", async () => {
    const res = await call(
      "https://connect.example.com/oauth2/mycallback?code=c",
      { headers: API_CLIENT },
      { CALLBACK_MODE: "exchange", PEAKA_PROJECT_ID: "" },
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("config_invalid");
    expect(body.message).toContain("PEAKA_US_PROJECT_ID (or PEAKA_PROJECT_ID)");
    expect(JSON.stringify(body)).not.toContain("test-partner-key");
  });

  it("reports the problem on /healthz", async () => {
    const res = await call("https://connect.example.com/healthz", {}, { PEAKA_ZONE: "mars" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("config_invalid");
    expect(body.message).toContain("PEAKA_ZONE");
  });
});
