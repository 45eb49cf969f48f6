import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

// Passes trivially on a clean checkout: it has teeth when a .dev.vars or .env
// sits beside wrangler.toml, as on a developer's machine and in
// scripts/check-dev-vars-isolation.mjs, which plants both with the marker
// below and runs the suite.
describe("the test pool's env", () => {
  it("has nothing from a .dev.vars or .env file", () => {
    const leaked = Object.entries(env)
      .filter(([name, value]) => name.includes("ISOLATION_SENTINEL") || String(value).includes("ISOLATION_SENTINEL"))
      .map(([name]) => name);
    expect(leaked).toEqual([]);
  });

  it("leaves unset the secrets the baseline leaves unset", () => {
    // The ones .dev.vars.example sets that vitest.config.ts does not override.
    expect(env.ADMIN_TOKEN).toBeUndefined();
    expect(env.LINK_SIGNING_KEY).toBeUndefined();
    expect(env.PEAKA_US_API_KEY).toBeUndefined();
    expect(env.PEAKA_EU_API_KEY).toBeUndefined();
  });
});
