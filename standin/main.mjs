#!/usr/bin/env node
// Runs the Peaka stand-in alone (US and EU on two ports) with the platform's
// OAuth server it redeems codes at, e.g. as the upstream of a load test:
//   node standin/main.mjs --us-port 8790 --eu-port 8791 --platform-port 8792 --api-key KEY --delay-ms 20
// The OAuth apps are registered for edge workers at --relay-origin and
// --exchange-origin. `npm run dev` and `npm run test:e2e` start all of this
// in-process instead.

import { parseArgs } from "node:util";
import { oauthApps, peakaApps, platformClients } from "./flows.mjs";
import { startStandin } from "./peaka.mjs";
import { startProvider } from "./provider.mjs";
import { FAULT_CHOICES } from "./state.mjs";

const { values } = parseArgs({
  options: {
    "us-port": { type: "string", default: "8790" },
    "eu-port": { type: "string", default: "8791" },
    "platform-port": { type: "string", default: "8792" },
    "relay-origin": { type: "string", default: "http://localhost:8787" },
    "exchange-origin": { type: "string", default: "http://localhost:8789" },
    "api-key": { type: "string", default: "standin-dev-key" },
    "project-id": { type: "string", default: "demo_project" },
    "delay-ms": { type: "string", default: "0" },
    "slow-ms": { type: "string", default: "15000" },
    quiet: { type: "boolean", default: false },
  },
});

const origins = {
  us: `http://localhost:${values["us-port"]}`,
  eu: `http://localhost:${values["eu-port"]}`,
};
const apps = oauthApps({
  peakaCallbacks: { us: `${origins.us}/oauth2/callback`, eu: `${origins.eu}/oauth2/callback` },
  workers: { relay: values["relay-origin"], exchange: values["exchange-origin"] },
});
const standins = [];
const platform = await startProvider({
  port: Number(values["platform-port"]),
  clients: platformClients(apps),
  faults: {
    choices: FAULT_CHOICES,
    choose: (state, fault) => {
      for (const standin of standins) standin.ctx.state.chooseFault(state, fault);
    },
  },
  quiet: values.quiet,
});
console.log(`Platform (oidc-provider): ${platform.issuer}`);

for (const zone of /** @type {const} */ (["us", "eu"])) {
  const server = await startStandin({
    zone,
    port: Number(values[`${zone}-port`]),
    origin: origins[zone],
    projectId: values["project-id"],
    apiKey: values["api-key"],
    platform: { issuer: platform.issuer, authorizationUrl: platform.authorizationUrl, tokenUrl: platform.tokenUrl },
    apps: peakaApps(apps),
    delayMs: Number(values["delay-ms"]),
    slowMs: Number(values["slow-ms"]),
    completionStyle: zone === "us" ? "guide" : "standard",
    quiet: values.quiet,
  });
  standins.push(server);
  console.log(`Peaka stand-in ${zone.toUpperCase()}: ${server.origin} (partner API at ${server.origin}/api/v1)`);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await Promise.all([...standins, platform].map((server) => server.close()));
    process.exit(0);
  });
}
