import { describe, expect, it } from "vitest";
import type { BindingName, Env } from "../src/config/env";
import { parseConfig, requireZoneSetting } from "../src/config/load";
import { captureLogs } from "./helpers/logs";
import { API_CLIENT, BROWSER, call, testEnv } from "./helpers/worker";

const kv = {} as KVNamespace;
type Vars = Partial<Record<Exclude<keyof Env, BindingName>, string>>;
const logs = captureLogs();

function parse(vars: Vars) {
  return parseConfig({ CONNECTIONS: kv, ...vars } as Env);
}

function problems(vars: Vars) {
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
    expect(config.returnOrigins).toEqual({ exact: new Set(), wildcards: [] });
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
      RETURN_ORIGINS:
        "https://app.example.com, https://APP2.example.com:8443/,http://localhost:3000, https://*.Tenants.example.com,https://*.example.net:8443",
    });
    if (!result.ok) throw new Error("config should parse");
    expect([...result.config.zoneByHost]).toEqual([
      ["connect.eu.example.com", "eu"],
      ["connect.example.com", "us"],
    ]);
    expect([...result.config.returnOrigins.exact]).toEqual([
      "https://app.example.com",
      "https://app2.example.com:8443",
      "http://localhost:3000",
    ]);
    expect(result.config.returnOrigins.wildcards).toEqual([
      { scheme: "https:", suffix: "tenants.example.com", port: "" },
      { scheme: "https:", suffix: "example.net", port: "8443" },
    ]);
  });

  it.each([
    "https://*.com",
    "https://*",
    "https://a.*.example.com",
    "https://*example.com",
    "*.example.com",
    "http://*.example.com",
    "http://*.localhost:3000",
    "https://*.example.com:443",
    "https://*.example.com/path",
    "https://%2A.example.com",
  ])("refuses the wildcard %j in RETURN_ORIGINS, naming the variable, not the value", (entry) => {
    const found = problems({ RETURN_ORIGINS: `https://app.example.com,${entry}` });
    expect(found).toHaveLength(1);
    expect(found[0]?.variable).toBe("RETURN_ORIGINS");
    // A fixed text: the rule, never the entry.
    expect(found[0]?.reason).toBe(
      "has an invalid wildcard: write https://*.example.com (https only, one leading *. over at least two labels, an optional non-default port)",
    );
  });

  describe("ERROR_URL and DEFAULT_RETURN_URL pass the return-URL checker", () => {
    const ORIGINS = "https://app.example.com,https://*.tenants.example.com,http://localhost:3000";

    it.each([
      ["ERROR_URL", "https:evil.com", "https://app.example.com,https://evil.com"],
      ["ERROR_URL", "https:/evil.com", "https://app.example.com,https://evil.com"],
      ["ERROR_URL", "https://evil.com/error", ORIGINS],
      ["ERROR_URL", "https://app.example.com.evil.com/error", ORIGINS],
      ["ERROR_URL", "https://app.example.%EF%BD%83om/error", ORIGINS],
      ["ERROR_URL", "https://app.example.com:443/error", ORIGINS],
      ["ERROR_URL", "https://user@app.example.com/error", ORIGINS],
      ["ERROR_URL", "https://a.b.tenants.example.com/error", ORIGINS],
      ["ERROR_URL", "http://app.example.com/error", "https://app.example.com"],
      ["ERROR_URL", "https://app.example.com/error", ""],
      ["DEFAULT_RETURN_URL", "https://app.example.com:443/x", ORIGINS],
      ["DEFAULT_RETURN_URL", "https://%61pp.example.com/x", ORIGINS],
      ["DEFAULT_RETURN_URL", "https://tenants.example.com/x", ORIGINS],
    ] as const)("refuses %s=%j, naming the variable, never the value", (variable, value, origins) => {
      const found = problems({ [variable]: value, RETURN_ORIGINS: origins });
      expect(found.map((p) => p.variable)).toEqual([variable]);
      expect(found[0]?.reason).toContain("RETURN_ORIGINS");
      expect(JSON.stringify(found)).not.toContain(value);
      expect(JSON.stringify(found)).not.toContain("evil");
    });

    it.each([
      ["ERROR_URL", "https://app.example.com/oauth-error"],
      ["ERROR_URL", "https://app.example.com/oauth-error/?partner=acme#top"],
      ["ERROR_URL", "https://acme.tenants.example.com/error"],
      ["ERROR_URL", "http://localhost:3000/error"],
      ["DEFAULT_RETURN_URL", "https://APP.example.com/connections?x=1"],
      ["DEFAULT_RETURN_URL", "https://acme.tenants.example.com/connections"],
    ] as const)("accepts %s=%j and keeps it as written", (variable, value) => {
      const result = parse({ [variable]: value, RETURN_ORIGINS: ORIGINS });
      if (!result.ok) throw new Error(result.error.message);
      expect(variable === "ERROR_URL" ? result.config.errorUrl : result.config.defaultReturnUrl).toBe(value);
    });
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

  it("keeps ERROR_URL's own query and fragment and appends the failure", async () => {
    const res = await call(
      "https://connect.example.com/oauth2/complete?connectionId=conn_missing&status=success",
      { headers: BROWSER },
      { ERROR_URL: "https://app.example.com/oauth-error?partner=acme#top" },
    );
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get("location") ?? "");
    expect(to.origin + to.pathname).toBe("https://app.example.com/oauth-error");
    expect(to.search).toMatch(/^\?partner=acme&error=unknown_connection&connectionId=conn_missing&requestId=/);
    expect(to.hash).toBe("#top");
  });

  it("refuses ERROR_URL=https:evil.com at request time without following or printing it", async () => {
    const res = await call(
      "https://connect.example.com/oauth2/complete?connectionId=conn_missing&status=success",
      { headers: BROWSER },
      { ERROR_URL: "https:evil.com", RETURN_ORIGINS: "https://app.example.com,https://evil.com" },
    );
    expect(res.status).toBe(500);
    expect(res.headers.get("location")).toBeNull();
    const page = await res.text();
    expect(page).toContain("config_invalid");
    expect(page).toContain("ERROR_URL");
    expect(page).not.toContain("https:evil.com");
  });

  it("reports the problem on /healthz", async () => {
    const res = await call("https://connect.example.com/healthz", {}, { PEAKA_ZONE: "mars" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("config_invalid");
    expect(body.message).toContain("PEAKA_ZONE");
  });
});
