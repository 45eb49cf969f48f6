import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { experimental_readRawConfig } from "wrangler";

// wrangler hands the pool every variable in a .dev.vars beside wrangler.toml
// (without one: .env files, and with CLOUDFLARE_INCLUDE_PROCESS_ENV the
// shell's environment), so a developer's local secrets would change what the
// tests see. Under an environment, wrangler reads .dev.vars.<environment> in
// place of .dev.vars, and once it has read a dev-vars file it skips .env: so
// with .dev.vars.test committed and empty, no local variable gets in, however
// many the worker gains. The pool therefore runs under wrangler.toml's
// [env.test]. Environments inherit neither [vars] nor bindings: [env.test]
// repeats the top-level bindings (KV, rate limits, queues; a binding added at
// the top level must be added there too), and the top-level [vars] are copied
// in below, read with wrangler's own config reader, so a new var needs no copy.
const TEST_ENVIRONMENT = "test";
const TEST_DEV_VARS = `.dev.vars.${TEST_ENVIRONMENT}`;
if (/^\s*[^#\s]/m.test(readFileSync(fileURLToPath(new URL(TEST_DEV_VARS, import.meta.url)), "utf8"))) {
  throw new Error(`${TEST_DEV_VARS} must stay empty: test variables belong in vitest.config.ts or call() overrides.`);
}
process.env.WRANGLER_LOG ??= "error";

const { rawConfig } = experimental_readRawConfig({ config: fileURLToPath(new URL("wrangler.toml", import.meta.url)) });
const TOP_LEVEL_VARS = Object.fromEntries(
  Object.entries(rawConfig.vars ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
);

// Tests run inside workerd with real local KV; only Peaka is mocked (MSW, at
// the fetch boundary). These bindings are the baseline test configuration;
// a test that needs another one passes overrides to `call()` (test/helpers).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml", environment: TEST_ENVIRONMENT },
      miniflare: {
        bindings: {
          ...TOP_LEVEL_VARS,
          PEAKA_PROJECT_ID: "proj_test",
          PEAKA_API_KEY: "test-partner-key-5f2c9a",
          RETURN_ORIGINS: "https://app.example.com,http://localhost:3000",
          PEAKA_TIMEOUT_MS: "200",
          PUBLIC_ORIGINS: "https://connect.example.com,https://connect.eu.example.com,http://localhost:8787",
          // The suites written before the binding test flows without a browser;
          // test/binding.test.ts and the browser tests run it `required`.
          BROWSER_BINDING: "off",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/helpers/setup.ts"],
    // The worker logs a JSON line per request; show them only for failing tests.
    silent: "passed-only",
  },
});
