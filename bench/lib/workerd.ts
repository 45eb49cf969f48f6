/**
 * Runs a built worker bundle in workerd directly, on loopback, with no
 * wrangler or Miniflare in between: requests go from the client straight to
 * workerd's socket and into the worker.
 *
 * Interface (kept stable for other load tests):
 *
 *   const worker = await startWorker({ bundleDir, vars, port });
 *   // worker.url      "http://127.0.0.1:<port>" (no trailing slash)
 *   // worker.kvUrl    loopback URL of the KV service behind the CONNECTIONS binding
 *   // worker.startupMs  spawn → listening, in ms
 *   // worker.pid      workerd's process id (e.g. to read its CPU time)
 *   await worker.kvPut(key, value, ttlSeconds);  // seed a record (real KV protocol)
 *   await worker.kvStats();                      // {get, put, delete, list, keys, queued}
 *   await worker.kvReset();                      // zero the operation counts
 *   await worker.stop();                         // idempotent; also done on process exit
 *
 * Options:
 *   bundleDir  directory with `index.js` (the ES module entry, as written by
 *              `wrangler deploy --dry-run --outdir`) and any other modules.
 *   vars       text bindings: the worker's variables and secrets. The value
 *              SELF_ORIGIN stands for the worker's own http://127.0.0.1:<port>
 *              (PUBLIC_ORIGINS), which is known only once the port is.
 *   port       loopback port; 0 or absent picks a free one.
 *   kvBinding  name of the KV binding (default CONNECTIONS); false for none.
 *   queueBindings  names of queue producer bindings; each message sent is
 *              counted in kvStats().queued (the same in-process service).
 *   compatibilityDate / compatibilityFlags  default to wrangler.toml's.
 *
 * The worker's outbound fetch may reach 127.0.0.0/8 only: a benchmark
 * pointed at a stand-in can never send traffic off the machine. KV is an
 * in-memory service in the same workerd process (kv-service.js).
 */
import { readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, removeScratch, scratchDir, spawnTracked, stopProcess, Tail, waitForChild } from "./processes";
import { wranglerCompatibility } from "./wrangler-toml";

/** A variable's value that becomes the worker's own origin (see startWorker). */
export const SELF_ORIGIN = "{self-origin}";

export interface WorkerOptions {
  bundleDir: string;
  vars?: Readonly<Record<string, string>>;
  port?: number;
  kvBinding?: string | false;
  queueBindings?: readonly string[];
  compatibilityDate?: string;
  compatibilityFlags?: readonly string[];
}

export interface KvStats {
  get: number;
  put: number;
  delete: number;
  list: number;
  keys: number;
  /** Messages sent through the queue producer bindings. */
  queued: number;
}

export interface RunningWorker {
  url: string;
  port: number;
  kvUrl: string;
  startupMs: number;
  pid: number;
  kvPut(key: string, value: string, ttlSeconds?: number): Promise<void>;
  kvStats(): Promise<KvStats>;
  kvReset(): Promise<void>;
  stop(): Promise<void>;
}

const KV_SERVICE = resolve(fileURLToPath(import.meta.url), "../kv-service.js");
const STARTUP_TIMEOUT_MS = 15_000;

/** The workerd binary that ships with wrangler's own dependency, i.e. the runtime `wrangler dev` would use. */
export function workerdBinary(): string {
  const require = createRequire(import.meta.url);
  return (require("workerd") as { default: string }).default;
}

/** Cap'n Proto text literal; only ever given names and dates we control, checked here. */
function capnpString(value: string): string {
  if (!/^[\w.:/@-]*$/.test(value)) throw new Error(`unexpected character in ${JSON.stringify(value)}`);
  return `"${value}"`;
}

function moduleFiles(bundleDir: string): string[] {
  const files = readdirSync(bundleDir).filter((name) => /\.m?js$/.test(name));
  if (!files.includes("index.js")) throw new Error(`${bundleDir} has no index.js`);
  return ["index.js", ...files.filter((name) => name !== "index.js").sort()];
}

function writeConfig(dir: string, options: WorkerOptions, port: number): string {
  const compat = wranglerCompatibility();
  const kvBinding = options.kvBinding ?? "CONNECTIONS";
  const embed = (file: string) => capnpString(relative(dir, file));
  // Each value goes through a file and `embed`, so no variable needs escaping for Cap'n Proto.
  const bindings = Object.entries(options.vars ?? {}).map(([name, raw], index) => {
    const value = raw === SELF_ORIGIN ? `http://127.0.0.1:${port}` : raw;
    const file = join(dir, `var-${index}.txt`);
    writeFileSync(file, value);
    return `(name = ${capnpString(name)}, text = embed ${embed(file)})`;
  });
  if (kvBinding) bindings.push(`(name = ${capnpString(kvBinding)}, kvNamespace = "kv")`);
  for (const name of options.queueBindings ?? []) bindings.push(`(name = ${capnpString(name)}, queue = "kv")`);
  const modules = moduleFiles(options.bundleDir).map(
    (name) => `(name = ${capnpString(name)}, esModule = embed ${embed(join(options.bundleDir, name))})`,
  );
  const flags = (options.compatibilityFlags ?? compat.flags).map(capnpString).join(", ");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .main),
    (name = "kv", worker = .kv),
    (name = "loopback", network = (allow = ["127.0.0.0/8"])),
  ],
  sockets = [
    (name = "http", address = ${capnpString(`127.0.0.1:${port}`)}, http = (), service = "main"),
    (name = "kv", address = "127.0.0.1:0", http = (), service = "kv"),
  ],
);
const main :Workerd.Worker = (
  modules = [${modules.join(", ")}],
  compatibilityDate = ${capnpString(options.compatibilityDate ?? compat.date)},
  compatibilityFlags = [${flags}],
  bindings = [${bindings.join(", ")}],
  globalOutbound = "loopback",
);
const kv :Workerd.Worker = (
  modules = [(name = "kv-service.js", esModule = embed ${embed(KV_SERVICE)})],
  compatibilityDate = ${capnpString(compat.date)},
  globalOutbound = "loopback",
);
`;
  const file = join(dir, "config.capnp");
  writeFileSync(file, config);
  return file;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const dir = scratchDir("bench-workerd-");
  const needsOwnOrigin = Object.values(options.vars ?? {}).includes(SELF_ORIGIN);
  const wanted = options.port ?? (needsOwnOrigin ? await freePort() : 0);
  const configFile = writeConfig(dir, { ...options, bundleDir: resolve(options.bundleDir) }, wanted);
  const tail = new Tail();
  const started = performance.now();
  // fd 3 is workerd's control channel: one JSON line per socket once it listens.
  // stdout (the worker's console.log lines) goes to /dev/null so that logging
  // costs the worker what it costs, and nothing in this process.
  const child = spawnTracked(workerdBinary(), ["serve", configFile, "--control-fd=3"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => tail.push(chunk));
  const control = child.stdio[3] as NodeJS.ReadableStream;
  const ports = await waitForChild<Record<string, number>>(
    child,
    "workerd",
    STARTUP_TIMEOUT_MS,
    (resolveReady) => {
      const seen: Record<string, number> = {};
      let buffer = "";
      control.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline = buffer.indexOf("\n");
        while (newline >= 0) {
          const message = JSON.parse(buffer.slice(0, newline)) as { event?: string; socket?: string; port?: number };
          buffer = buffer.slice(newline + 1);
          if (message.event === "listen" && message.socket && message.port) seen[message.socket] = message.port;
          if (seen.http && seen.kv) resolveReady(seen);
          newline = buffer.indexOf("\n");
        }
      });
    },
    tail,
  ).catch((error: unknown) => {
    removeScratch(dir);
    throw error;
  });
  const startupMs = performance.now() - started;
  const port = ports.http as number;
  const kvUrl = `http://127.0.0.1:${ports.kv}`;

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    kvUrl,
    startupMs,
    pid: child.pid as number,
    async kvPut(key, value, ttlSeconds = 3600) {
      const url = new URL(`/${encodeURIComponent(key)}`, kvUrl);
      url.searchParams.set("urlencoded", "true");
      url.searchParams.set("expiration_ttl", String(ttlSeconds));
      const response = await fetch(url, { method: "PUT", body: value });
      if (!response.ok) throw new Error(`KV put failed: ${response.status}`);
    },
    async kvStats() {
      const response = await fetch(new URL("/__bench/stats", kvUrl));
      return (await response.json()) as KvStats;
    },
    async kvReset() {
      await fetch(new URL("/__bench/reset", kvUrl), { method: "POST" });
    },
    stop() {
      stopped ??= stopProcess(child).finally(() => removeScratch(dir));
      return stopped;
    },
  };
}
