/**
 * `npm run test:load`: builds the worker as it deploys, runs it in workerd
 * directly on loopback (no wrangler, no dev proxy) with a Peaka stand-in on
 * loopback that redeems every code at the platform's real OAuth server
 * (oidc-provider), and drives three flows with autocannon, bounded by
 * requests and time. Every response is checked against its own request. Writes
 * artifacts/hardening/load.json and exits non-zero on any error, wrong
 * status, wrong redirect or lost record.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBundle } from "../../bench/lib/build";
import { type RunningWorker, startWorker } from "../../bench/lib/workerd";
import { peakaApps } from "../../standin/flows.mjs";
import { startStandin } from "../../standin/peaka.mjs";
import { startProvider } from "../../standin/provider.mjs";
import { networkFaults } from "./network-faults";
import {
  completionScenario,
  exchangeScenario,
  type Limits,
  LOAD_APP,
  RETURN_ORIGIN,
  relayScenario,
  type ScenarioResult,
} from "./scenarios";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const OUT_DIR = join(ROOT, "artifacts", "hardening");
const PROJECT_ID = "proj_load";
const API_KEY = `load-partner-key-${crypto.randomUUID()}`;

// Per scenario: at most this many requests and seconds (the issue's bound is
// 50,000 and ~30 s). Exchange is slower per request: a Peaka round trip and,
// behind it, a real token request at oidc-provider, about 2 ms of CPU in this
// process next to the load generator, so a few hundred per second on 2 cores;
// 6,000 fit the time bound on an idle machine, and a busy one hits the time
// bound instead (the checks allow for requests in flight when it stops).
const LIMITS: Record<"relay" | "completion" | "exchange", Limits> = {
  relay: { amount: 50_000, maxSeconds: 30, connections: 32 },
  completion: { amount: 20_000, maxSeconds: 30, connections: 32 },
  exchange: { amount: 6_000, maxSeconds: 30, connections: 32 },
};

const BASE_VARS = {
  PEAKA_PROJECT_ID: PROJECT_ID,
  PEAKA_API_KEY: API_KEY,
  RETURN_ORIGINS: RETURN_ORIGIN,
  PEAKA_TIMEOUT_MS: "10000",
  // The default: completion and exchange check the binding on every request
  // (scenarios.ts seeds records with it and sends the cookie).
  BROWSER_BINDING: "required",
};

async function withWorker<T>(
  bundleDir: string,
  vars: Record<string, string>,
  use: (w: RunningWorker) => Promise<T>,
): Promise<T> {
  const worker = await startWorker({ bundleDir, vars: { ...BASE_VARS, ...vars } });
  try {
    return await use(worker);
  } finally {
    await worker.stop();
  }
}

function print(result: ScenarioResult): void {
  const { name, requests, errors, wrongStatus, wrongRedirects, recordsLost, rps, p50Ms, p99Ms, seconds } = result;
  console.log(
    `${name}: ${requests} requests in ${seconds.toFixed(1)} s (${Math.round(rps)}/s, p50 ${p50Ms.toFixed(2)} ms, p99 ${p99Ms.toFixed(2)} ms); ` +
      `errors ${errors}, wrong status ${wrongStatus}, wrong redirects ${wrongRedirects}, records lost ${recordsLost}`,
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  mkdirSync(OUT_DIR, { recursive: true });
  console.log("load: building the worker (wrangler deploy --dry-run)");
  const bundle = await buildBundle(join(OUT_DIR, "bundle"));

  const results: ScenarioResult[] = [];
  // The relay runs unbound: each request is a different callback with no
  // session behind it, the raw-query copy under load. Bound relays are
  // covered in the Workers pool and the browser tests.
  await withWorker(bundle.dir, { BROWSER_BINDING: "off" }, async (worker) => {
    results.push(await relayScenario(worker, LIMITS.relay));
    print(results.at(-1) as ScenarioResult);
  });
  await withWorker(bundle.dir, {}, async (worker) => {
    results.push(await completionScenario(worker, LIMITS.completion));
    print(results.at(-1) as ScenarioResult);
  });
  const platform = await startProvider({ port: 0, clients: [LOAD_APP], quiet: true });
  const peaka = await startStandin({
    zone: "us",
    projectId: PROJECT_ID,
    apiKey: API_KEY,
    platform: { issuer: platform.issuer, authorizationUrl: platform.authorizationUrl, tokenUrl: platform.tokenUrl },
    apps: peakaApps([LOAD_APP]),
    quiet: true,
    port: 0,
  });
  try {
    const vars = { CALLBACK_MODE: "exchange", PEAKA_US_API_URL: `http://127.0.0.1:${peaka.port}/api/v1` };
    await withWorker(bundle.dir, vars, async (worker) => {
      results.push(await exchangeScenario(worker, peaka.ctx, platform, LIMITS.exchange));
      print(results.at(-1) as ScenarioResult);
    });
  } finally {
    await peaka.close();
    await platform.close();
  }

  // Socket-level Peaka faults need the exchange to reach Peaka with no session seeded.
  const faults = await networkFaults(bundle.dir, { ...BASE_VARS, BROWSER_BINDING: "off" });
  for (const fault of faults) {
    console.log(
      `network fault, ${fault.name}: ${fault.ok ? "ok" : "FAILED"} (${fault.detail}, ${fault.ms.toFixed(0)} ms)`,
    );
  }

  const failures =
    results.reduce((n, r) => n + r.errors + r.wrongStatus + r.wrongRedirects + r.recordsLost, 0) +
    faults.filter((fault) => !fault.ok).length;
  const report = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    bundleBytes: bundle.rawBytes,
    limits: LIMITS,
    scenarios: results,
    networkFaults: faults,
    totalSeconds: (performance.now() - started) / 1000,
  };
  writeFileSync(join(OUT_DIR, "load.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `load: ${failures === 0 ? "passed" : `FAILED (${failures} problems)`} in ${report.totalSeconds.toFixed(0)} s`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.log(error);
  process.exitCode = 1;
});
