import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with real local KV; only Peaka is mocked (MSW, at
// the fetch boundary). These bindings are the baseline test configuration;
// a test that needs another one passes overrides to `call()` (test/helpers).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          PEAKA_PROJECT_ID: "proj_test",
          PEAKA_API_KEY: "test-partner-key-5f2c9a",
          RETURN_ORIGINS: "https://app.example.com,http://localhost:3000",
          PEAKA_TIMEOUT_MS: "200",
          PUBLIC_ORIGINS: "https://connect.example.com,https://connect.eu.example.com,http://localhost:8787",
          // The suites written before the binding test flows without a browser;
          // test/binding.test.ts and the browser tests run it `required`.
          BROWSER_BINDING: "off",
          // The pool loads .dev.vars as `wrangler dev` does, and CI keeps one
          // copied from .dev.vars.example. Empty means unset to the worker, so
          // the baseline has no secret a test did not pass to call() itself.
          PEAKA_US_API_KEY: "",
          PEAKA_EU_API_KEY: "",
          ADMIN_TOKEN: "",
          LINK_SIGNING_KEY: "",
          RESULT_SIGNING_KEY: "",
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
