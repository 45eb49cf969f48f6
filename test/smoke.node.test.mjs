// `npm run smoke` against the production bundle in workerd (loopback only):
// a relay with BROWSER_BINDING=off passes on its 307, the default
// BROWSER_BINDING=required and exchange mode pass on their 403, and a worker
// with a broken configuration fails naming /healthz. Nothing here has a
// Peaka account: the relay's redirect is never followed, and the exchange
// stops at the browser binding.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SMOKE = fileURLToPath(new URL("../scripts/smoke.mjs", import.meta.url));
const HELPER = fileURLToPath(new URL("./helpers/bundle-workers.mjs", import.meta.url));
const TSX = fileURLToPath(new URL("../node_modules/tsx/dist/cli.mjs", import.meta.url));
const PEAKA_CALLBACK = "https://peaka.studio/oauth2/callback";

const BASE = {
  PEAKA_PROJECT_ID: "proj_smoke",
  PEAKA_API_KEY: `smoke-partner-key-${process.pid}`,
  RETURN_ORIGINS: "http://localhost:3000",
  PUBLIC_ORIGINS: "SELF_ORIGIN",
  PEAKA_US_CALLBACK_URL: PEAKA_CALLBACK,
};
const CONFIGS = {
  relayOff: { ...BASE, BROWSER_BINDING: "off" },
  relayRequired: { ...BASE, BROWSER_BINDING: "required" },
  exchangeRequired: { ...BASE, CALLBACK_MODE: "exchange", BROWSER_BINDING: "required" },
  exchangeOff: { ...BASE, CALLBACK_MODE: "exchange", BROWSER_BINDING: "off" },
  broken: { ...BASE, PEAKA_ZONE: "xx" },
  degraded: { ...BASE, PEAKA_API_KEY: "", PUBLIC_ORIGINS: "" },
};

/** Runs `npm run smoke -- <url> …` as plain Node; resolves with the exit code and output. */
async function smoke(...args) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SMOKE, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (typeof error?.code !== "number") throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

/** The table row of one check: [status, detail]. */
function row(stdout, check) {
  for (const line of stdout.split("\n")) {
    const match = /^ {2}(\S+(?: \S+)*) {2,}(ok|FAIL|skip)(?: {2}(.*))?$/.exec(line);
    if (match?.[1] === check) return [match[2], (match[3] ?? "").trim()];
  }
  assert.fail(`no row for ${check} in:\n${stdout}`);
}

describe("npm run smoke against the production bundle in workerd", { timeout: 90_000 }, () => {
  let helper;
  let urls;

  before(async () => {
    helper = spawn(process.execPath, [TSX, HELPER, JSON.stringify(CONFIGS)], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const exited = new Promise((_, reject) =>
      helper.once("exit", (code) => reject(new Error(`helper exited ${code}`))),
    );
    const firstLine = new Promise((resolve) => createInterface({ input: helper.stdout }).once("line", resolve));
    urls = JSON.parse(await Promise.race([firstLine, exited]));
  });

  after(async () => {
    if (!helper || helper.exitCode !== null) return;
    const done = new Promise((resolve) => helper.once("exit", resolve));
    helper.stdin.end();
    const timer = setTimeout(() => helper.kill("SIGTERM"), 10_000);
    await done;
    clearTimeout(timer);
  });

  it("passes on a relay with BROWSER_BINDING=off: 307 to Peaka's callback with the query byte for byte", async () => {
    const { code, stdout } = await smoke(urls.relayOff, "--peaka-callback", PEAKA_CALLBACK);
    assert.equal(code, 0, stdout);
    assert.deepEqual(row(stdout, "callback"), ["ok", `relay: 307 to ${PEAKA_CALLBACK}`]);
    for (const check of [
      "healthz",
      "healthz headers",
      "not found",
      "404 headers",
      "callback headers",
      "complete HEAD",
    ]) {
      assert.equal(row(stdout, check)[0], "ok", check);
    }
    assert.match(stdout, /smoke: passed/);
  });

  it("fails when the relay goes elsewhere than --peaka-callback", async () => {
    const { code, stdout } = await smoke(urls.relayOff, "--peaka-callback", "https://peaka.example/oauth2/callback");
    assert.equal(code, 1);
    assert.equal(row(stdout, "callback")[0], "FAIL");
    assert.match(stdout, /smoke: FAILED: callback\n/);
  });

  it("passes on the default BROWSER_BINDING=required: 403 browser_mismatch, nothing relayed", async () => {
    const { code, stdout } = await smoke(urls.relayRequired);
    assert.equal(code, 0, stdout);
    assert.deepEqual(row(stdout, "callback"), ["ok", "relay: 403 browser_mismatch (binding on, nothing relayed)"]);
  });

  it("passes in exchange mode: the callback without a session is 403 before Peaka", async () => {
    const { code, stdout } = await smoke(urls.exchangeRequired);
    assert.equal(code, 0, stdout);
    assert.equal(row(stdout, "callback")[0], "ok");
    assert.match(row(stdout, "callback")[1], /^exchange: 403 browser_mismatch/);
  });

  it("skips the callback in exchange mode with BROWSER_BINDING=off (it would call Peaka)", async () => {
    const { code, stdout } = await smoke(urls.exchangeOff);
    assert.equal(code, 0, stdout);
    assert.equal(row(stdout, "callback")[0], "skip");
  });

  it("fails on a broken configuration, naming /healthz and the variable", async () => {
    const { code, stdout } = await smoke(urls.broken);
    assert.equal(code, 1, stdout);
    const [status, detail] = row(stdout, "healthz");
    assert.equal(status, "FAIL");
    assert.match(detail, /^500 config_invalid: .*PEAKA_ZONE/);
    // An invalid global setting fails every route; the answers are still stamped.
    assert.match(stdout, /smoke: FAILED: healthz, not found, callback, complete HEAD\n/);
    assert.equal(row(stdout, "healthz headers")[0], "ok");
    assert.equal(row(stdout, "404 headers")[0], "ok");
  });

  it("fails on a degraded deployment, listing each problem by variable name", async () => {
    const { code, stdout } = await smoke(urls.degraded);
    assert.equal(code, 1, stdout);
    const [status, detail] = row(stdout, "healthz");
    assert.equal(status, "FAIL");
    assert.match(detail, /^degraded,/);
    assert.match(detail, /PEAKA_US_API_KEY \(or PEAKA_API_KEY\) is not set/);
    assert.match(detail, /PUBLIC_ORIGINS is not set/);
    assert.doesNotMatch(stdout, /smoke-partner-key|proj_smoke/);
  });

  it("fails naming every check when nothing answers, and refuses a bad base URL", async () => {
    const closed = new URL(urls.relayOff);
    closed.port = "9";
    const down = await smoke(closed.origin, "--timeout-ms", "2000");
    assert.equal(down.code, 1);
    assert.match(down.stdout, /smoke: FAILED: healthz, not found, callback, complete HEAD\n/);
    const usage = await smoke("https://connect.example.com/some/path");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /origin only/);
  });
});
