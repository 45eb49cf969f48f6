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
import { DEV_WEBHOOK_SECRET, devEntrySecrets } from "./lib/dev-vars.mjs";
import { DEV_PORTS, ROOT, startStack } from "./lib/stack.mjs";

const direct = process.argv.includes("--direct");
// Known values rather than random ones, so the README's curl and sign-link
// commands work against this stack as written.
const entry = devEntrySecrets(join(ROOT, ".dev.vars"));

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
    entrySecrets: {
      adminToken: entry.ADMIN_TOKEN.value,
      linkSigningKey: entry.LINK_SIGNING_KEY.value,
      resultSigningKey: entry.RESULT_SIGNING_KEY.value,
    },
    webhookSecret: DEV_WEBHOOK_SECRET,
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

/** Only the published dev-only values are ever shown; one from .dev.vars may be real. */
function shown(name) {
  const { value, source } = entry[name];
  return source === "dev-only" ? `${name}=${value}   (dev-only value)` : `${name} from .dev.vars (value not shown)`;
}

// sign-link prefers the shell's LINK_SIGNING_KEY; its links would not verify here.
const shellKey = process.env.LINK_SIGNING_KEY;
const shellKeyNote =
  shellKey && shellKey !== entry.LINK_SIGNING_KEY.value
    ? "\n  Note: LINK_SIGNING_KEY in this shell differs, and `npm run sign-link` prefers it: its links will not verify here."
    : "";

const { urls } = stack;
console.log(`
  Demo app (start here):  ${urls.app}/
  Edge worker, relay:     ${urls.relay}   (CALLBACK_MODE=relay, options 1, 2.a, 2.b.1, 2.b.2)
  Edge worker, exchange:  ${urls.exchange}   (CALLBACK_MODE=exchange, options 1, 2.b.3)
  Peaka stand-in:         ${urls.us} (US), ${urls.eu} (EU)
  Platform (OAuth 2.0):   ${urls.platform}   (oidc-provider: consent screen, token endpoint)
  Rivery stand-in:        ${urls.rivery}   (both zones' APIs and the consent page; platform "rivery")
  Connections start ${stack.startedVia}.

  Both workers, for curl and \`npm run sign-link\` (README, "Try it locally"):
    ${shown("ADMIN_TOKEN")}
    ${shown("LINK_SIGNING_KEY")}
    ${shown("RESULT_SIGNING_KEY")}   (the demo app verifies \`result\` with it)
    WEBHOOK_SECRET=${DEV_WEBHOOK_SECRET}   (dev-only value; the demo app verifies webhooks at ${urls.app}/webhooks with it)
    RETURN_ORIGINS=${urls.app}${shellKeyNote}

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
