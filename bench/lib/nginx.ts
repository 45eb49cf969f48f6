import { accessSync, constants, mkdirSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { delimiter, join } from "node:path";
import type { RunningServer } from "./node-server";
import { freePort, removeScratch, scratchDir, spawnTracked, stopProcess, Tail, waitForChild } from "./processes";

/** The nginx binary on PATH, or undefined: nginx is optional and its column is then skipped. */
export function findNginx(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "nginx");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * nginx with the guide's relay (`return 307 …?$query_string`), in one
 * process (master_process off, so a SIGKILL cannot orphan a worker), without
 * an access log: the configuration a partner would tune it to for speed.
 * keepalive_requests and keepalive_timeout are far past anything a run
 * reaches, so nginx never closes a connection mid-run: by default it closes
 * one after 1000 requests (well under a second of this load), and
 * autocannon, which does not wait for the close it was told about, counts
 * the next request's ECONNRESET as an error and fails the run.
 */
export async function startNginx(binary: string, callbackUrl: string, path: string): Promise<RunningServer> {
  const dir = scratchDir("bench-nginx-");
  const port = await freePort();
  for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 1h;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = ${path} { return 307 ${callbackUrl}?$query_string; }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const tail = new Tail();
  const started = performance.now();
  const child = spawnTracked(binary, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => tail.push(chunk));
  await waitForChild<void>(
    child,
    "nginx",
    10_000,
    (ready) => {
      const poll = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (await accepts(port)) ready();
        else setTimeout(poll, 20);
      };
      void poll();
    },
    tail,
  ).catch((error: unknown) => {
    removeScratch(dir);
    throw error;
  });
  const startupMs = performance.now() - started;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    startupMs,
    pid: child.pid as number,
    stop() {
      stopped ??= stopProcess(child).finally(() => removeScratch(dir));
      return stopped;
    },
  };
}
