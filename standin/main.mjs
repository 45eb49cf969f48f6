#!/usr/bin/env node
// Runs the Peaka stand-in alone (US and EU on two ports), e.g. as the
// upstream of a load test:
//   node standin/main.mjs --us-port 8790 --eu-port 8791 --api-key KEY --project-id demo_project --delay-ms 20
// `npm run dev` and `npm run test:e2e` start it in-process instead.

import { parseArgs } from "node:util";
import { startStandin } from "./peaka.mjs";

const { values } = parseArgs({
  options: {
    "us-port": { type: "string", default: "8790" },
    "eu-port": { type: "string", default: "8791" },
    "api-key": { type: "string", default: "standin-dev-key" },
    "project-id": { type: "string", default: "demo_project" },
    "delay-ms": { type: "string", default: "0" },
    "slow-ms": { type: "string", default: "15000" },
    quiet: { type: "boolean", default: false },
  },
});

const servers = [];
for (const zone of /** @type {const} */ (["us", "eu"])) {
  const server = await startStandin({
    zone,
    port: Number(values[`${zone}-port`]),
    projectId: values["project-id"],
    apiKey: values["api-key"],
    delayMs: Number(values["delay-ms"]),
    slowMs: Number(values["slow-ms"]),
    completionStyle: zone === "us" ? "guide" : "standard",
    quiet: values.quiet,
  });
  servers.push(server);
  console.log(`Peaka stand-in ${zone.toUpperCase()}: ${server.origin} (partner API at ${server.origin}/api/v1)`);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await Promise.all(servers.map((server) => server.close()));
    process.exit(0);
  });
}
