/**
 * `npm run bench`: builds the production bundle, runs it in workerd on
 * loopback next to the alternatives, and writes docs/benchmarks.md.
 * `npm run bench -- --smoke` (bench:smoke) runs every step briefly, checks
 * that every server answers correctly, asserts no timing, and writes the
 * report to a temporary file instead of the docs.
 * `--out FILE` writes the report elsewhere.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Store } from "../src/storage/store";
import { buildBundle, buildBundleAt } from "./lib/build";
import { kvOverHttp } from "./lib/kv-adapters";
import { findNginx, startNginx } from "./lib/nginx";
import { type RunningServer, startNodeServer } from "./lib/node-server";
import { removeScratch, scratchDir } from "./lib/processes";
import {
  ADMIN_TOKEN,
  API_KEY,
  BOUND_RELAY,
  boundRelayVars,
  CALLBACK_PATH,
  CONNECTION_ID,
  EU_CALLBACK,
  exchangeVars,
  LINK_SIGNING_KEY,
  PEAKA_CALLBACK,
  PROJECT_ID,
  QUEUE_BINDINGS,
  RELAY_QUERY,
  RETURN_URL,
  relayVars,
  seedBoundRelay,
  WEBHOOK_VARS,
} from "./lib/scenario";
import { type RunningWorker, startWorker } from "./lib/workerd";
import { machineInfo } from "./report/machine";
import { renderReport } from "./report/render";
import { measureInProcess } from "./sections/inprocess";
import { interleaved, type Target } from "./sections/load-rounds";
import { measureOps, measureStartOps } from "./sections/ops";
import { measureStartup } from "./sections/startup";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const BARE_WORKER_DIR = join(ROOT, "bench/servers/bare-worker");
const KV_PROBE_DIR = join(ROOT, "bench/servers/kv-probe");

export interface Settings {
  smoke: boolean;
  rounds: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  exchangeConnections: number;
  exchangeDurationSeconds: number;
  upstreamDelayMs: number;
  opsRequests: number;
  starts: number;
}

const FULL: Settings = {
  smoke: false,
  rounds: 3,
  connections: 16,
  durationSeconds: 5,
  warmupSeconds: 2,
  exchangeConnections: 8,
  exchangeDurationSeconds: 5,
  upstreamDelayMs: 20,
  opsRequests: 20,
  starts: 5,
};

const SMOKE: Settings = {
  smoke: true,
  rounds: 1,
  connections: 2,
  durationSeconds: 1,
  warmupSeconds: 0,
  exchangeConnections: 2,
  exchangeDurationSeconds: 1,
  upstreamDelayMs: 5,
  opsRequests: 2,
  starts: 1,
};

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** Every relay server must give the same answer before any is timed. */
async function checkSameRelay(servers: { name: string; url: string }[]): Promise<void> {
  const expected = `${PEAKA_CALLBACK}?${RELAY_QUERY}`;
  for (const server of servers) {
    const response = await fetch(`${server.url}${CALLBACK_PATH}?${RELAY_QUERY}`, { redirect: "manual" });
    await response.body?.cancel();
    const location = response.headers.get("location");
    if (response.status !== 307 || location !== expected) {
      throw new Error(`${server.name} answered ${response.status} ${location}, expected 307 ${expected}`);
    }
  }
}

async function main(): Promise<void> {
  const settings = process.argv.includes("--smoke") ? SMOKE : FULL;
  const out = argValue("--out") ?? (settings.smoke ? undefined : join(ROOT, "docs/benchmarks.md"));
  const started = Date.now();
  const tmp = scratchDir("bench-");
  const running: (RunningWorker | RunningServer)[] = [];
  const track = <T extends RunningWorker | RunningServer>(server: T): T => {
    running.push(server);
    return server;
  };
  try {
    const machineBefore = await machineInfo();
    progress("building the production bundle (wrangler deploy --dry-run)");
    const bundle = await buildBundle(join(tmp, "bundle"));
    const against = argValue("--against");
    if (against) progress(`building the bundle of ${against} for comparison`);
    const baseline = against ? await buildBundleAt(against, join(tmp, "against")) : undefined;

    progress("starting servers");
    const upstream = track(
      await startNodeServer("bench/servers/upstream.ts", ["--delay", String(settings.upstreamDelayMs)]),
    );
    const worker = track(await startWorker({ bundleDir: bundle.dir, vars: relayVars() }));
    const bare = track(await startWorker({ bundleDir: BARE_WORKER_DIR, vars: { CALLBACK_URL: PEAKA_CALLBACK } }));
    const express = track(
      await startNodeServer("bench/servers/express-relay.ts", ["--callback", PEAKA_CALLBACK, "--path", CALLBACK_PATH]),
    );
    const nginxBinary = findNginx();
    const nginx = nginxBinary ? track(await startNginx(nginxBinary, PEAKA_CALLBACK, CALLBACK_PATH)) : undefined;
    // The default deployment: the relay checks the browser binding against the state record (one KV read).
    const bound = track(await startWorker({ bundleDir: bundle.dir, vars: boundRelayVars() }));
    const boundBrowser = await seedBoundRelay(bound);
    const baselineName = `worker @ ${against}`;
    const baselineWorker = baseline
      ? track(await startWorker({ bundleDir: baseline.dir, vars: relayVars() }))
      : undefined;
    const relayServers = [
      { name: "worker", server: worker },
      ...(baselineWorker ? [{ name: baselineName, server: baselineWorker }] : []),
      { name: "bare worker", server: bare },
      { name: "Express", server: express },
      ...(nginx ? [{ name: "nginx", server: nginx }] : []),
    ];
    await checkSameRelay(relayServers.map((s) => ({ name: s.name, url: s.server.url })));

    progress(`relay: ${settings.rounds} interleaved rounds of ${settings.durationSeconds} s per server`);
    const relayTargets: Target[] = relayServers.map(({ name, server }) => ({
      name,
      options: { url: server.url, path: `${CALLBACK_PATH}?${RELAY_QUERY}`, expectStatus: 307, pid: server.pid },
    }));
    relayTargets.splice(1, 0, {
      name: BOUND_RELAY,
      options: {
        url: bound.url,
        path: `${CALLBACK_PATH}?${RELAY_QUERY}`,
        expectStatus: 307,
        pid: bound.pid,
        headers: boundBrowser,
      },
    });
    const relay = await interleaved(relayTargets, {
      rounds: settings.rounds,
      connections: settings.connections,
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      onRun: (name, round, r) =>
        progress(`  round ${round} ${name}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms`),
    });
    for (const server of [
      bare,
      express,
      bound,
      ...(nginx ? [nginx] : []),
      ...(baselineWorker ? [baselineWorker] : []),
    ]) {
      await server.stop();
    }

    progress("exchange: worker against the delayed upstream, and the upstream alone");
    const exchangeWorker = track(await startWorker({ bundleDir: bundle.dir, vars: exchangeVars(upstream.url) }));
    const store = new Store(kvOverHttp(exchangeWorker), 3600);
    await store.putState("bench-exchange-state", { connectionId: CONNECTION_ID, returnUrl: RETURN_URL, zone: "us" });
    await store.putConnection(CONNECTION_ID, { returnUrl: RETURN_URL, zone: "us", mode: "exchange", createdAt: 0 });
    let code = 0;
    // Every request carries a new code: a repeated one would be answered from the stored outcome without Peaka.
    const exchangePath = () => `${CALLBACK_PATH}?code=bench-${++code}&state=bench-exchange-state`;
    const upstreamBody = JSON.stringify({ queryParameters: "code=bench&state=bench-exchange-state" });
    const upstreamAlone: Target["options"] = {
      url: upstream.url,
      path: `/api/v1/connections/${PROJECT_ID}/oauth2`,
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", accept: "application/json" },
      body: upstreamBody,
      expectStatus: 200,
    };
    const workerExchange: Target["options"] = {
      url: exchangeWorker.url,
      path: exchangePath,
      expectStatus: 303,
      pid: exchangeWorker.pid,
    };
    // One connection is one user's callback with nothing queued ahead of it: the latency the worker adds.
    // More connections show how that grows when the worker is busy.
    const exchangeTargets: Target[] = [
      { name: "worker exchange, 1 connection", options: workerExchange, connections: 1 },
      { name: "upstream alone, 1 connection", options: upstreamAlone, connections: 1 },
      { name: `worker exchange, ${settings.exchangeConnections} connections`, options: workerExchange },
      { name: `upstream alone, ${settings.exchangeConnections} connections`, options: upstreamAlone },
    ];
    const exchange = await interleaved(exchangeTargets, {
      rounds: settings.rounds,
      connections: settings.exchangeConnections,
      durationSeconds: settings.exchangeDurationSeconds,
      warmupSeconds: settings.warmupSeconds > 0 ? 1 : 0,
      onRun: (name, round, r) =>
        progress(`  round ${round} ${name}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`),
    });
    await exchangeWorker.stop();
    await worker.stop();

    progress("cost of one KV read in this workerd (probe worker, with and without a read)");
    const probe = track(await startWorker({ bundleDir: KV_PROBE_DIR }));
    const probeRuns = await interleaved(
      [
        { name: "without", options: { url: probe.url, path: "/", expectStatus: 204, pid: probe.pid } },
        { name: "with", options: { url: probe.url, path: "/?kv", expectStatus: 204, pid: probe.pid } },
      ],
      {
        rounds: settings.rounds,
        connections: 4,
        durationSeconds: Math.min(3, settings.durationSeconds),
        warmupSeconds: 0,
      },
    );
    await probe.stop();

    progress("KV operations, queue messages and subrequests per flow");
    const opsOneZone = track(
      await startWorker({
        bundleDir: bundle.dir,
        vars: relayVars({ ADMIN_TOKEN, LINK_SIGNING_KEY, PEAKA_US_API_URL: `${upstream.url}/api/v1`, ...WEBHOOK_VARS }),
        queueBindings: QUEUE_BINDINGS,
      }),
    );
    const opsTwoZones = track(
      await startWorker({
        bundleDir: bundle.dir,
        vars: relayVars({ PEAKA_EU_CALLBACK_URL: EU_CALLBACK, ...WEBHOOK_VARS }),
        queueBindings: QUEUE_BINDINGS,
      }),
    );
    const opsExchange = track(
      await startWorker({
        bundleDir: bundle.dir,
        vars: { ...exchangeVars(upstream.url), ...WEBHOOK_VARS },
        queueBindings: QUEUE_BINDINGS,
      }),
    );
    const ops = [
      ...(await measureOps(
        { relayOneZone: opsOneZone, relayTwoZones: opsTwoZones, exchange: opsExchange, upstream },
        settings.opsRequests,
      )),
      ...(await measureStartOps(opsOneZone, upstream, settings.opsRequests)),
    ];
    for (const server of running) await server.stop();

    progress("in-process ns per request (mitata, Node)");
    const inProcess = await measureInProcess(bundle.dir, settings.smoke);

    progress("startup");
    const startup = await measureStartup(
      { bundleDir: bundle.dir, vars: relayVars() },
      { bundleDir: BARE_WORKER_DIR, vars: { CALLBACK_URL: PEAKA_CALLBACK } },
      settings.starts,
      !settings.smoke,
    );

    const machineAfter = await machineInfo();
    const report = renderReport({
      settings,
      machineBefore,
      machineAfter,
      command: settings.smoke ? "npm run bench:smoke" : "npm run bench",
      elapsedSeconds: (Date.now() - started) / 1000,
      bundle,
      ...(baseline && against ? { baseline: { name: baselineName, bundle: baseline } } : {}),
      relay,
      nginxNote: nginx ? undefined : "nginx is not on PATH: its column is skipped (apt-get install nginx-light).",
      exchange,
      kvProbe: probeRuns,
      inProcess,
      startup,
      ops,
    });
    if (out) {
      writeFileSync(out, report);
      progress(`wrote ${out}`);
    } else {
      const file = join(tmpdir(), "bench-smoke.md");
      writeFileSync(file, report);
      progress(`smoke run passed; report (not for the docs) in ${file}`);
    }
    progress(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    for (const server of running) await server.stop().catch(() => undefined);
    removeScratch(tmp);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
