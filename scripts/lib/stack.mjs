// Starts the whole local setup: the platform's OAuth server (oidc-provider),
// the Peaka stand-in (US and EU), the Rivery stand-in, one edge worker per callback mode under
// `wrangler dev` (local KV, no Cloudflare account), and the demo partner app.
// `npm run dev` and `npm run test:e2e` both use it, so the tests exercise
// exactly what a newcomer clicks through.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { oauthApps, peakaApps, platformClients } from "../../standin/flows.mjs";
import { defaultReturnUrl, startPartnerApp } from "../../standin/partner-app.mjs";
import { startStandin } from "../../standin/peaka.mjs";
import { startProvider } from "../../standin/provider.mjs";
import { startRivery } from "../../standin/rivery.mjs";
import { directStarter, edgeStarter } from "../../standin/starters.mjs";
import { FAULT_CHOICES } from "../../standin/state.mjs";

export const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

/** Fixed ports for `npm run dev`, so the printed URLs stay the same between runs. */
export const DEV_PORTS = { app: 3000, relay: 8787, exchange: 8789, us: 8790, eu: 8791, platform: 8792, rivery: 8793 };

const PROJECT_ID = "demo_project";

/** A free TCP port on 127.0.0.1 (the e2e run must not collide with a running `npm run dev`). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** @param {string} url @param {number} timeoutMs @param {() => string | undefined} [exited] */
async function waitForHealth(url, timeoutMs, exited) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    const reason = exited?.();
    if (reason) throw new Error(`${url}: the process exited (${reason}) before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms (${last})`);
}

/** dotenv lines; every value here is generated, so none needs quoting beyond this. */
function envFile(vars) {
  return `${Object.entries(vars)
    .map(([name, value]) => `${name}=${JSON.stringify(String(value))}`)
    .join("\n")}\n`;
}

/**
 * Starts `wrangler dev` for one callback mode and resolves once /healthz answers.
 * Runs in its own process group so that stop() also ends workerd.
 * test/webhooks.node.test.mjs starts one alone with its own receiver.
 */
export async function startWorker({ mode, port, inspectorPort, vars, stateDir, snapshot, onOutput }) {
  mkdirSync(stateDir, { recursive: true });
  const envPath = join(stateDir, `${mode}.env`);
  // Secrets go through a generated env file (not --var) so they never show in
  // `ps`. With --env-file wrangler does not read .dev.vars at all, so the
  // placeholders CI copies from .dev.vars.example (PEAKA_API_KEY, …) cannot
  // override the stand-in's values; what the stack takes from .dev.vars it
  // takes on purpose (see scripts/lib/dev-vars.mjs).
  writeFileSync(envPath, envFile(vars), { mode: 0o600 });
  const source = snapshot ? [snapshot.script, "--no-bundle", "--config", snapshot.config] : [];
  const args = [
    WRANGLER,
    "dev",
    ...source,
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(inspectorPort),
    "--env-file",
    envPath,
    "--persist-to",
    join(stateDir, `kv-${mode}`),
    "--show-interactive-dev-session=false",
    "--log-level",
    "log",
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      // Offline-friendly: skip fetching the Request.cf sample from Cloudflare.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      NO_COLOR: "1",
      FORCE_COLOR: "0",
    },
  });
  let exit;
  child.once("exit", (code, signal) => {
    exit = signal ?? `code ${code}`;
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    let buffered = "";
    stream.on("data", (chunk) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) onOutput(mode, line);
    });
  }
  liveGroups.add(child);
  child.once("exit", () => liveGroups.delete(child));
  const origin = `http://localhost:${port}`;
  const stop = () => stopProcessGroup(child);
  try {
    await waitForHealth(`http://127.0.0.1:${port}/healthz`, 90_000, () => exit);
  } catch (error) {
    await stop();
    throw error;
  }
  return { mode, origin, child, stop };
}

/** Worker process groups still running; killed on exit even when stop() never ran. */
const liveGroups = new Set();
process.once("exit", () => {
  for (const child of liveGroups) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

/** SIGTERM to the group, SIGKILL after 5 s if anything is still there. */
export function stopProcessGroup(child) {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
      resolveStop();
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Exited between the check and the kill.
      }
    }, 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // workerd left with its parent.
      }
      resolveStop();
    });
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      clearTimeout(timer);
      resolveStop();
    }
  });
}

/**
 * Bundles the worker once, as `wrangler deploy` would, and copies its
 * config: workers started from this snapshot run the deployable bundle and
 * are not reloaded when files change mid-run (live reload is for `npm run dev`).
 */
async function bundleSnapshot(stateDir, onOutput) {
  const dir = join(stateDir, "snapshot");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "wrangler.toml");
  copyFileSync(join(ROOT, "wrangler.toml"), config);
  // [assets] directory is relative to the config: the snapshot takes its own copy.
  cpSync(join(ROOT, "public"), join(dir, "public"), { recursive: true });
  const child = spawn(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", dir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const code = await new Promise((resolveExit) => child.once("exit", resolveExit));
  for (const line of output.split("\n")) onOutput("bundle", line);
  if (code !== 0) throw new Error(`bundling the worker failed (wrangler exit ${code}); see the bundle output`);
  return { script: join(dir, "index.js"), config };
}

/** The start-link signer, if this checkout has one (it ships with the start routes). */
async function loadLinkSigner() {
  try {
    // The package's own export, the way a partner's Node backend imports it.
    const module = await import("peaka-connect-edge/start-link");
    return typeof module.createStartLink === "function" ? module.createStartLink : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {{ ports: typeof DEV_PORTS & { relayInspector: number, exchangeInspector: number },
 *   stateDir: string, freshState?: boolean, quiet?: boolean, start?: "edge" | "direct", snapshot?: boolean,
 *   slowMs?: number, timeoutMs?: number, onWorkerOutput?: (mode: string, line: string) => void,
 *   entrySecrets?: { adminToken: string, linkSigningKey: string, resultSigningKey: string },
 *   webhookSecret?: string }} options
 *   entrySecrets: ADMIN_TOKEN and LINK_SIGNING_KEY for both workers. `npm run dev`
 *   passes known ones so a developer can call the workers by hand; without
 *   them each run gets random ones (the tests search the logs for them).
 *   webhookSecret: WEBHOOK_SECRET for both workers, which the demo app verifies
 *   webhooks with; random per run without it.
 */
export async function startStack(options) {
  const { ports } = options;
  const secrets = {
    apiKey: `standin-key-${randomBytes(12).toString("hex")}`,
    adminToken: options.entrySecrets?.adminToken ?? `admin-${randomBytes(24).toString("base64url")}`,
    linkSigningKey: options.entrySecrets?.linkSigningKey ?? randomBytes(32).toString("base64url"),
    resultSigningKey: options.entrySecrets?.resultSigningKey ?? randomBytes(32).toString("base64url"),
    riveryToken: `rivery-standin-${randomBytes(12).toString("hex")}`,
    webhookSecret: options.webhookSecret ?? `whsec_${randomBytes(24).toString("base64")}`,
  };
  const urls = {
    app: `http://localhost:${ports.app}`,
    relay: `http://localhost:${ports.relay}`,
    exchange: `http://localhost:${ports.exchange}`,
    us: `http://localhost:${ports.us}`,
    eu: `http://localhost:${ports.eu}`,
    platform: `http://localhost:${ports.platform}`,
    rivery: `http://localhost:${ports.rivery}`,
  };
  if (options.freshState) rmSync(options.stateDir, { recursive: true, force: true });

  /** @type {Array<() => Promise<void>>} */
  const stops = [];
  const stop = async () => {
    for (const fn of stops.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Keep stopping the rest.
      }
    }
  };

  try {
    const apps = oauthApps({
      peakaCallbacks: { us: `${urls.us}/oauth2/callback`, eu: `${urls.eu}/oauth2/callback` },
      workers: { relay: urls.relay, exchange: urls.exchange },
    });
    const standins = {};
    // One platform for both zones, as Google is one for Peaka's US and EU:
    // each zone is its own client of it, with its own callback.
    const platform = await startProvider({
      port: ports.platform,
      issuer: urls.platform,
      clients: platformClients(apps),
      faults: {
        choices: FAULT_CHOICES,
        choose: (state, fault) => {
          for (const standin of Object.values(standins)) standin.ctx.state.chooseFault(state, fault);
        },
      },
      quiet: options.quiet,
    });
    stops.push(platform.close);
    const platformEndpoints = {
      issuer: platform.issuer,
      authorizationUrl: platform.authorizationUrl,
      tokenUrl: platform.tokenUrl,
    };
    const slowMs = options.slowMs ?? 15_000;
    for (const zone of /** @type {const} */ (["us", "eu"])) {
      const standin = await startStandin({
        zone,
        port: ports[zone],
        origin: urls[zone],
        projectId: PROJECT_ID,
        apiKey: secrets.apiKey,
        platform: platformEndpoints,
        apps: peakaApps(apps),
        slowMs,
        // US answers in the guide's literal `?connectionId=X?status=Y` form, EU with `&`.
        completionStyle: zone === "us" ? "guide" : "standard",
        quiet: options.quiet,
      });
      stops.push(standin.close);
      standins[zone] = standin;
    }

    const rivery = await startRivery({
      port: ports.rivery,
      origin: urls.rivery,
      token: secrets.riveryToken,
      quiet: options.quiet,
    });
    stops.push(rivery.close);

    const shared = {
      PEAKA_PROJECT_ID: PROJECT_ID,
      PEAKA_API_KEY: secrets.apiKey,
      // Server-to-server calls use the IPv4 address the stand-in listens on;
      // browser-facing URLs use localhost.
      PEAKA_US_API_URL: `http://127.0.0.1:${ports.us}/api/v1`,
      PEAKA_EU_API_URL: `http://127.0.0.1:${ports.eu}/api/v1`,
      PEAKA_US_CALLBACK_URL: `${urls.us}/oauth2/callback`,
      PEAKA_EU_CALLBACK_URL: `${urls.eu}/oauth2/callback`,
      RETURN_ORIGINS: urls.app,
      PEAKA_TIMEOUT_MS: String(options.timeoutMs ?? 3000),
      ADMIN_TOKEN: secrets.adminToken,
      LINK_SIGNING_KEY: secrets.linkSigningKey,
      // The demo app verifies the signed result with the same key.
      RESULT_SIGNING_KEY: secrets.resultSigningKey,
      RIVERY_API_TOKEN: secrets.riveryToken,
      RIVERY_US_API_URL: `http://127.0.0.1:${ports.rivery}/api`,
      RIVERY_EU_API_URL: `http://127.0.0.1:${ports.rivery}/eu/api`,
      // Both workers send their sessions' webhooks to the demo app (IPv4, like the API URLs),
      // retrying after 2 s rather than 10 so a failed delivery shows up again quickly.
      WEBHOOK_URL: `http://127.0.0.1:${ports.app}/webhooks`,
      WEBHOOK_SECRET: secrets.webhookSecret,
      WEBHOOK_RETRY_BASE_SECONDS: "2",
    };
    const onOutput = options.onWorkerOutput ?? (() => {});
    const snapshot = options.snapshot ? await bundleSnapshot(options.stateDir, onOutput) : undefined;
    const workerSpecs = [
      // The relay instance falls back to the demo app when no record is found;
      // the exchange instance has no DEFAULT_RETURN_URL, so it shows the built-in error page.
      {
        mode: "relay",
        port: ports.relay,
        inspectorPort: ports.relayInspector,
        vars: {
          ...shared,
          PUBLIC_ORIGINS: urls.relay,
          CALLBACK_MODE: "relay",
          DEFAULT_RETURN_URL: defaultReturnUrl(urls.app),
        },
      },
      {
        mode: "exchange",
        port: ports.exchange,
        inspectorPort: ports.exchangeInspector,
        vars: { ...shared, PUBLIC_ORIGINS: urls.exchange, CALLBACK_MODE: "exchange" },
      },
    ];
    const workers = await Promise.all(
      workerSpecs.map((spec) => startWorker({ ...spec, stateDir: options.stateDir, snapshot, onOutput })),
    );
    for (const worker of workers) stops.push(worker.stop);

    const workerOrigins = { relay: urls.relay, exchange: urls.exchange };
    const startMode = options.start ?? "edge";
    const createStartLink = startMode === "edge" ? await loadLinkSigner() : undefined;
    const start =
      startMode === "edge"
        ? edgeStarter({
            workers: workerOrigins,
            adminToken: secrets.adminToken,
            ...(createStartLink
              ? {
                  signLink: (params, baseUrl) => createStartLink({ ...params, baseUrl }, secrets.linkSigningKey),
                }
              : {}),
          })
        : directStarter({
            workers: workerOrigins,
            standins: { us: `http://127.0.0.1:${ports.us}`, eu: `http://127.0.0.1:${ports.eu}` },
            projectId: PROJECT_ID,
            apiKey: secrets.apiKey,
          });
    const startedVia =
      startMode === "edge"
        ? `through the edge worker (server API${createStartLink ? ", signed start links for Peaka's app" : ""})`
        : "directly against Peaka's API (--direct), so users return via DEFAULT_RETURN_URL";
    const app = await startPartnerApp({
      port: ports.app,
      origin: urls.app,
      workers: workerOrigins,
      standins: { us: urls.us, eu: urls.eu },
      platform: urls.platform,
      rivery: urls.rivery,
      start,
      startedVia,
      resultSigningKey: secrets.resultSigningKey,
      webhookSecret: secrets.webhookSecret,
      quiet: options.quiet,
    });
    stops.push(app.close);

    return { urls, secrets, standins, platform, rivery, startMode, startedVia, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
