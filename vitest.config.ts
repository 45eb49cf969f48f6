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
