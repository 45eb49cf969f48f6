import type { Env as WorkerEnv } from "../src/config/env";

declare global {
  namespace Cloudflare {
    // The test pool's `env` from "cloudflare:test" has the worker's bindings.
    interface Env extends WorkerEnv {}
  }
}
