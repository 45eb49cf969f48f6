#!/usr/bin/env node
// `npm run dev`: the edge worker (one instance per callback mode) under
// `wrangler dev` with local KV, wired to a local Peaka stand-in for both
// zones and a real OAuth 2.0 server as the platform, plus a demo partner app
// to click through every flow. No Cloudflare account, no Peaka account, no
// configuration.
//
// Options: --direct  start connections against Peaka's API instead of the
//                    edge start routes (users return via DEFAULT_RETURN_URL).

import { join } from "node:path";
import { DEV_PORTS, ROOT, startStack } from "./lib/stack.mjs";

const direct = process.argv.includes("--direct");

// wrangler's start-up table lists every binding; the demo's URLs below say more.
const WRANGLER_BANNER = /^(env\.|Binding\s|Your Worker has access|Using secrets defined|\s*⛅️|─+$)/;

console.log(
  "Starting the platform's OAuth server, the Peaka stand-in, two edge workers (wrangler dev) and the demo app…",
);
let stack;
try {
  stack = await startStack({
    ports: { ...DEV_PORTS, relayInspector: 9230, exchangeInspector: 9231 },
    // Under .wrangler/ (git-ignored): local KV survives restarts like plain `wrangler dev`.
    stateDir: join(ROOT, ".wrangler/peaka-dev"),
    start: direct ? "direct" : "edge",
    onWorkerOutput: (mode, line) => {
      if (line.trim() !== "" && !WRANGLER_BANNER.test(line)) console.log(`[edge-${mode}] ${line}`);
    },
  });
} catch (error) {
  console.log(`Could not start: ${error instanceof Error ? error.message : String(error)}`);
  console.log(
    `The ports in use are ${Object.values(DEV_PORTS).join(", ")}, 9230 and 9231; is another run still going?`,
  );
  process.exit(1);
}

const { urls } = stack;
console.log(`
  Demo app (start here):  ${urls.app}/
  Edge worker, relay:     ${urls.relay}   (CALLBACK_MODE=relay, options 2.a, 2.b.1, 2.b.2)
  Edge worker, exchange:  ${urls.exchange}   (CALLBACK_MODE=exchange, option 2.b.3)
  Peaka stand-in:         ${urls.us} (US), ${urls.eu} (EU)
  Platform (OAuth 2.0):   ${urls.platform}   (oidc-provider: consent screen, token endpoint)
  Connections start ${stack.startedVia}.
  Press Ctrl+C to stop.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log("Stopping…");
    await stack.stop();
    process.exit(0);
  });
}
