#!/usr/bin/env node
// `npm run test:e2e`: starts the platform's OAuth server, the stand-in, both
// edge workers and the demo app exactly as `npm run dev` does (on free
// ports, with fresh local KV), then drives Debian's Chromium through every
// flow. Screenshots and the workers' logs go to artifacts/e2e/. Ends with
// "N passed, N failed".
//
// Options: --grep <text>  run only cases whose name contains <text>;
//          --direct      start connections against the stand-in's API directly.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT, startStack } from "../scripts/lib/stack.mjs";
import { clientSecretFor, DEMO_STRIPE_TOKEN } from "../standin/flows.mjs";
import { freshProfile, launchBrowser } from "./browser.mjs";
import { allCases } from "./cases.mjs";

const CASE_TIMEOUT_MS = 45_000;
const RUN_TIMEOUT_MS = 9 * 60_000;
const ARTIFACTS = join(ROOT, "artifacts/e2e");

// --direct starts connections without the edge start routes (as `npm run dev -- --direct`).
const direct = process.argv.includes("--direct");
const grepAt = process.argv.indexOf("--grep");
const grep = grepAt >= 0 ? (process.argv[grepAt + 1] ?? "") : "";

// Whatever happens, the run ends: the stack's exit hook kills the workers.
const watchdog = setTimeout(() => {
  console.log(`e2e: still running after ${RUN_TIMEOUT_MS / 1000} s, giving up`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}, RUN_TIMEOUT_MS);
watchdog.unref();

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

rmSync(ARTIFACTS, { recursive: true, force: true });
mkdirSync(ARTIFACTS, { recursive: true });
const stateDir = mkdtempSync(join(tmpdir(), "peaka-e2e-state-"));
const profile = freshProfile();
const workerLog = [];
// Last resort for an interrupted run: the temporary KV state and browser
// profile go even when the orderly shutdown did not get to them.
process.once("exit", () => {
  for (const dir of [stateDir, profile]) rmSync(dir, { recursive: true, force: true });
});

let stack;
let browser;
let passed = 0;
let failed = 0;

async function shutdown() {
  await browser?.close();
  await stack?.stop();
  rmSync(stateDir, { recursive: true, force: true });
  writeFileSync(join(ARTIFACTS, "workers.log"), `${workerLog.join("\n")}\n`);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    console.log(`e2e: ${signal}, stopping`);
    await shutdown();
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(130);
  });
}

try {
  const names = ["app", "relay", "exchange", "us", "eu", "platform", "rivery", "relayInspector", "exchangeInspector"];
  const ports = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await freePort()])));
  const started = Date.now();
  stack = await startStack({
    ports,
    stateDir,
    quiet: true,
    snapshot: true,
    start: direct ? "direct" : "edge",
    // Short enough for a quick test, long enough for a cold local worker; the
    // "slow" fault answers well after it.
    timeoutMs: 2000,
    slowMs: 5000,
    onWorkerOutput: (mode, line) => workerLog.push(`[${mode}] ${line}`),
  });
  console.log(`e2e: stack up in ${Date.now() - started} ms; connections start ${stack.startedVia}`);
  browser = await launchBrowser(profile);

  /** @type {import("./cases.mjs").CaseContext} */
  const ctx = {
    browser: browser.context,
    stack,
    seen: { codes: new Set(), states: new Set() },
    screenshot: async (tab, name) => {
      await tab.page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
  };

  const cases = allCases().filter((c) => c.name.includes(grep));
  for (const testCase of cases) {
    const t0 = Date.now();
    try {
      await withTimeout(testCase.run(ctx), CASE_TIMEOUT_MS, testCase.name);
      passed++;
      console.log(`  ok    ${testCase.name} (${Date.now() - t0} ms)`);
    } catch (error) {
      failed++;
      console.log(
        `  FAIL  ${testCase.name}\n        ${String(error?.message ?? error).replaceAll("\n", "\n        ")}`,
      );
      for (const page of browser.context.pages()) {
        await page.screenshot({ path: join(ARTIFACTS, `${testCase.file}-FAILED.png`) }).catch(() => {});
        await page.close().catch(() => {});
      }
    }
  }

  if (cases.length > 0) {
    // The workers' own log lines must hold no code, state, key or client secret.
    const output = workerLog.join("\n");
    const secrets = [
      ...ctx.seen.codes,
      ...[...ctx.seen.states].map((s) => s.split(" ")[1] ?? s),
      stack.secrets.apiKey,
      stack.secrets.adminToken,
      stack.secrets.linkSigningKey,
      stack.secrets.riveryToken,
      // Rivery credentials the stand-in issued: they must pass through the worker unlogged.
      ...stack.rivery.issuedSecrets(),
      ...stack.platform.clientIds.map(clientSecretFor),
      DEMO_STRIPE_TOKEN,
    ].filter((secret) => secret !== "");
    const leaked = secrets.filter((secret) => output.includes(secret));
    // The stand-in's consent URLs must match what the worker expects of each mode.
    const mismatches = workerLog.filter((line) => line.includes('"redirect_uri_mismatch"')).length;
    if (leaked.length === 0 && mismatches === 0 && ctx.seen.codes.size > 0) {
      passed++;
      console.log(
        `  ok    worker logs hold none of ${secrets.length} codes, states and secrets; no redirect_uri warnings`,
      );
    } else {
      failed++;
      console.log(
        `  FAIL  worker logs: ${leaked.length} secret(s) found, ${mismatches} redirect_uri warnings, ${ctx.seen.codes.size} codes seen (see artifacts/e2e/workers.log)`,
      );
    }
  }
} catch (error) {
  failed++;
  console.log(`e2e: could not run: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await shutdown();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
